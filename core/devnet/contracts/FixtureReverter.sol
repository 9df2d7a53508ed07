// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title FixtureReverter — always fails with a custom error, so the
/// simulator and the submit path can be tested against a real revert.
contract FixtureReverter {
    error Refused(address caller, uint256 code);

    uint256 public touched;

    /// @notice Reverts with Refused(msg.sender, 42) whatever it is given.
    function poke(uint256) external {
        touched += 1;
        revert Refused(msg.sender, 42);
    }

    receive() external payable {
        revert Refused(msg.sender, 7);
    }
}
