// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Pull {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title FixtureSpender — pulls tokens that an owner approved to it, the
/// way a drainer (or a DEX router) does once it holds an allowance.
contract FixtureSpender {
    event Pulled(address indexed token, address indexed from, address indexed to, uint256 value);

    error PullFailed(address token, address from, uint256 value);

    /// @notice Moves `value` of `token` from `from` to the caller.
    function pull(address token, address from, uint256 value) external {
        if (!IERC20Pull(token).transferFrom(from, msg.sender, value)) revert PullFailed(token, from, value);
        emit Pulled(token, from, msg.sender, value);
    }
}
