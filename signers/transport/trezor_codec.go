package transport

import (
	"encoding/binary"
	"fmt"
)

// Trezor "codec v1" framing, shared by the Trezor transports (UDP emulator,
// USB HID, Bridge) and by the Trezor emulator in hwtest.
//
// A message is sent as 64-byte packets. The first packet is
//
//	'?' '#' '#' type(2, big-endian) length(4, big-endian) payload[0:55]
//
// and every later packet is '?' followed by the next 63 payload bytes. The
// last packet is zero-padded to 64 bytes.
//
// A Trezor Transport's request and reply bytes are one message in the form
// type(2) ‖ length(4) ‖ payload: a "Trezor frame" (see TrezorFrame). The
// packetising below turns a frame into packets and back.
const (
	// TrezorPacketSize is the size of one codec v1 packet (one HID report,
	// one UDP datagram).
	TrezorPacketSize = 64
	// TrezorFrameHeaderSize is the size of a frame's type ‖ length header.
	TrezorFrameHeaderSize = 6
	// TrezorMaxPayload bounds the payload length a reader accepts, so a
	// corrupt or hostile length field cannot make the host allocate
	// gigabytes. No Ethereum message comes near it.
	TrezorMaxPayload = 1 << 20

	trezorMarker      = '?'
	trezorMagic1      = '#'
	trezorMagic2      = '#'
	trezorCancelType  = 20 // Cancel: sent when a caller gives up on a reply
	trezorFailureType = 3  // Failure: the device's answer to Cancel
)

// TrezorFrame returns the frame for a message: type ‖ length ‖ payload.
func TrezorFrame(msgType uint16, payload []byte) []byte {
	f := make([]byte, TrezorFrameHeaderSize+len(payload))
	binary.BigEndian.PutUint16(f[0:2], msgType)
	binary.BigEndian.PutUint32(f[2:6], uint32(len(payload)))
	copy(f[TrezorFrameHeaderSize:], payload)
	return f
}

// ParseTrezorFrame splits a frame into its message type and payload. The
// length field must match the payload exactly.
func ParseTrezorFrame(frame []byte) (msgType uint16, payload []byte, err error) {
	if len(frame) < TrezorFrameHeaderSize {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes is shorter than its 6-byte header", ErrFraming, len(frame))
	}
	n := binary.BigEndian.Uint32(frame[2:6])
	if uint64(n) != uint64(len(frame)-TrezorFrameHeaderSize) {
		return 0, nil, fmt.Errorf("%w: frame says %d payload bytes, has %d", ErrFraming, n, len(frame)-TrezorFrameHeaderSize)
	}
	return binary.BigEndian.Uint16(frame[0:2]), frame[TrezorFrameHeaderSize:], nil
}

// TrezorPackets cuts a frame into 64-byte codec v1 packets.
func TrezorPackets(frame []byte) ([][]byte, error) {
	if _, _, err := ParseTrezorFrame(frame); err != nil {
		return nil, err
	}
	if len(frame)-TrezorFrameHeaderSize > TrezorMaxPayload {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrFraming, len(frame)-TrezorFrameHeaderSize, TrezorMaxPayload)
	}
	var out [][]byte
	// The first packet carries '?##', the 6-byte header and 55 payload
	// bytes: that is '?' followed by "##" ‖ frame[0:61].
	rest := append([]byte{trezorMagic1, trezorMagic2}, frame...)
	for first := true; first || len(rest) > 0; first = false {
		p := make([]byte, TrezorPacketSize)
		p[0] = trezorMarker
		n := copy(p[1:], rest)
		rest = rest[n:]
		out = append(out, p)
	}
	return out, nil
}

// TrezorReader reassembles frames from codec v1 packets.
type TrezorReader struct {
	frame []byte
	want  int // total frame bytes expected; 0 before the first packet
}

// Add feeds one packet. It returns the complete frame once the last packet
// of a message arrived, nil while more packets are needed, and an error for
// a packet that breaks the framing (the reader is then reset).
func (r *TrezorReader) Add(packet []byte) ([]byte, error) {
	if len(packet) == 0 || packet[0] != trezorMarker {
		r.Reset()
		return nil, fmt.Errorf("%w: packet does not start with '?'", ErrFraming)
	}
	body := packet[1:]
	if r.want == 0 {
		if len(body) < 2+TrezorFrameHeaderSize || body[0] != trezorMagic1 || body[1] != trezorMagic2 {
			r.Reset()
			return nil, fmt.Errorf("%w: first packet does not start with '?##'", ErrFraming)
		}
		body = body[2:]
		n := binary.BigEndian.Uint32(body[2:6])
		if n > TrezorMaxPayload {
			r.Reset()
			return nil, fmt.Errorf("%w: payload length %d exceeds %d", ErrFraming, n, TrezorMaxPayload)
		}
		r.want = TrezorFrameHeaderSize + int(n)
		r.frame = make([]byte, 0, r.want)
	}
	take := min(len(body), r.want-len(r.frame))
	r.frame = append(r.frame, body[:take]...)
	if len(r.frame) < r.want {
		return nil, nil
	}
	f := r.frame
	r.Reset()
	return f, nil
}

// Reset drops a partly assembled frame.
func (r *TrezorReader) Reset() { r.frame, r.want = nil, 0 }

// InProgress reports whether a frame is partly assembled.
func (r *TrezorReader) InProgress() bool { return r.want != 0 }

// TrezorCancelFrame is the frame of Trezor's Cancel message (type 20, no
// payload). Transports send it when a caller abandons an exchange that
// waits for the user, so the device leaves its confirmation screen.
func TrezorCancelFrame() []byte { return TrezorFrame(trezorCancelType, nil) }

// isTrezorFailure reports whether frame is a Failure message.
func isTrezorFailure(frame []byte) bool {
	t, _, err := ParseTrezorFrame(frame)
	return err == nil && t == trezorFailureType
}
