package transport

import (
	"encoding/binary"
	"fmt"
)

// Ledger USB HID framing. One HID report is 64 bytes:
//
//	offset 0  channel, 2 bytes big-endian (0x0101)
//	offset 2  tag, 1 byte (0x05 = APDU)
//	offset 3  sequence index, 2 bytes big-endian, from 0 in each direction
//	offset 5  first report only: message length, 2 bytes big-endian
//	then      payload, zero-padded to 64 bytes
//
// A command message is the raw APDU; a response message is the response data
// followed by the 2-byte status word. The same codec serves the driver (host
// side) and the emulator (device side): both directions frame alike.
const (
	// LedgerReportSize is the size of one HID report.
	LedgerReportSize = 64
	// LedgerChannel is the channel id hosts use; the device echoes it.
	LedgerChannel uint16 = 0x0101
	// LedgerTagAPDU marks a report carrying APDU bytes.
	LedgerTagAPDU byte = 0x05
	// LedgerTagPing marks a link-test report.
	LedgerTagPing byte = 0x02
	// LedgerMaxMessage is the longest message the 2-byte length can carry.
	LedgerMaxMessage = 0xffff

	ledgerHeader      = 5
	ledgerFirstHeader = 7
)

// EncodeLedgerFrames cuts msg into 64-byte reports on channel with the APDU
// tag and sequence numbers 0, 1, 2, …
func EncodeLedgerFrames(channel uint16, msg []byte) ([][]byte, error) {
	if len(msg) > LedgerMaxMessage {
		return nil, fmt.Errorf("transport: ledger message of %d bytes exceeds %d", len(msg), LedgerMaxMessage)
	}
	var frames [][]byte
	rest := msg
	for seq := 0; seq == 0 || len(rest) > 0; seq++ {
		f := make([]byte, LedgerReportSize)
		binary.BigEndian.PutUint16(f[0:2], channel)
		f[2] = LedgerTagAPDU
		binary.BigEndian.PutUint16(f[3:5], uint16(seq))
		off := ledgerHeader
		if seq == 0 {
			binary.BigEndian.PutUint16(f[5:7], uint16(len(msg)))
			off = ledgerFirstHeader
		}
		n := copy(f[off:], rest)
		rest = rest[n:]
		frames = append(frames, f)
	}
	return frames, nil
}

// LedgerFrameDecoder reassembles one message from 64-byte reports. The zero
// value expects channel 0; set Channel (usually LedgerChannel) first. A
// decoder is good for one message; Reset it to read the next.
type LedgerFrameDecoder struct {
	// Channel is the channel every report must carry.
	Channel uint16

	seq     uint16
	started bool
	total   int
	buf     []byte
}

// Reset prepares the decoder for the next message on the same channel.
func (d *LedgerFrameDecoder) Reset() {
	d.seq, d.started, d.total, d.buf = 0, false, 0, nil
}

// Feed adds one report. It returns the whole message and done=true once the
// announced length has arrived. A report on another channel, with another tag
// or out of sequence yields an error wrapping ErrFraming; the caller decides
// whether to resynchronise or give up.
func (d *LedgerFrameDecoder) Feed(report []byte) (msg []byte, done bool, err error) {
	if len(report) < ledgerHeader {
		return nil, false, fmt.Errorf("transport: ledger report of %d bytes: %w", len(report), ErrFraming)
	}
	if ch := binary.BigEndian.Uint16(report[0:2]); ch != d.Channel {
		return nil, false, fmt.Errorf("transport: ledger report on channel %#04x, want %#04x: %w", ch, d.Channel, ErrFraming)
	}
	if report[2] != LedgerTagAPDU {
		return nil, false, fmt.Errorf("transport: ledger report with tag %#02x, want %#02x: %w", report[2], LedgerTagAPDU, ErrFraming)
	}
	if seq := binary.BigEndian.Uint16(report[3:5]); seq != d.seq {
		return nil, false, fmt.Errorf("transport: ledger report with sequence %d, want %d: %w", seq, d.seq, ErrFraming)
	}
	payload := report[ledgerHeader:]
	if !d.started {
		if len(report) < ledgerFirstHeader {
			return nil, false, fmt.Errorf("transport: first ledger report of %d bytes: %w", len(report), ErrFraming)
		}
		d.total = int(binary.BigEndian.Uint16(report[5:7]))
		d.buf = make([]byte, 0, d.total)
		d.started = true
		payload = report[ledgerFirstHeader:]
	}
	d.seq++
	need := d.total - len(d.buf)
	if len(payload) > need {
		payload = payload[:need] // drop the zero padding
	}
	d.buf = append(d.buf, payload...)
	if len(d.buf) == d.total {
		return d.buf, true, nil
	}
	if d.seq == 0 { // wrapped around: more than 65536 reports cannot happen for 0xffff bytes
		return nil, false, fmt.Errorf("transport: ledger sequence overflow: %w", ErrFraming)
	}
	return nil, false, nil
}
