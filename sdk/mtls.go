package sdk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Mutual TLS between host and plugin, without go-plugin AutoMTLS's cost.
//
// AutoMTLS generates a P-521 key on each side at every start (tens of
// milliseconds). Here the host generates two ephemeral ECDSA P-256 identities
// (microseconds): its own, and the plugin's. The plugin receives its key, its
// certificate and the host's certificate through an inherited pipe (never
// argv or the environment) and serves with them; each side pins the other's
// self-signed certificate as its only root. A plugin that does not read the
// pipe (one written in another language) still gets the host certificate in
// PLUGIN_CLIENT_CERT and can answer with go-plugin's standard AutoMTLS
// handshake. See PROTOCOL.md, "Transport security".

// tlsServerName is the name every certificate carries and every dialer
// expects; identity comes from pinning, not from the name.
const tlsServerName = "localhost"

// tlsIdentity is a key pair with its self-signed certificate.
type tlsIdentity struct {
	der  []byte
	key  crypto.Signer
	cert tls.Certificate
}

// newIdentity creates an ephemeral P-256 identity valid until notAfter.
func newIdentity(notAfter time.Time) (*tlsIdentity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: tlsServerName, Organization: []string{"mm signer plugin"}},
		DNSNames:              []string{tlsServerName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: create certificate: %w", err)
	}
	return identityFrom(der, key)
}

func identityFrom(der []byte, key crypto.Signer) (*tlsIdentity, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: parse certificate: %w", err)
	}
	return &tlsIdentity{der: der, key: key, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, nil
}

// parseIdentity rebuilds an identity from a DER certificate and a PKCS#8 DER
// key, checking that they belong together.
func parseIdentity(certDER, keyDER []byte) (*tlsIdentity, error) {
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: parse key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("sdk: tls: key cannot sign")
	}
	id, err := identityFrom(certDER, signer)
	if err != nil {
		return nil, err
	}
	pub, ok := id.cert.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(signer.Public()) {
		return nil, errors.New("sdk: tls: key does not match certificate")
	}
	return id, nil
}

func (id *tlsIdentity) keyDER() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(id.key)
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: encode key: %w", err)
	}
	return der, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// mutualConfig returns a TLS configuration presenting self and accepting
// only peer, usable both to serve and to dial (the go-plugin broker does
// both with one configuration).
func mutualConfig(self *tlsIdentity, peerDER []byte) (*tls.Config, error) {
	cfg := selfConfig(self)
	if err := trustOnly(cfg, peerDER); err != nil {
		return nil, err
	}
	return cfg, nil
}

// selfConfig returns a TLS configuration presenting self that trusts no
// peer until trustOnly names one.
func selfConfig(self *tlsIdentity) *tls.Config {
	pool := x509.NewCertPool()
	return &tls.Config{
		Certificates: []tls.Certificate{self.cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ServerName:   tlsServerName,
		MinVersion:   tls.VersionTLS12,
		// Plain P-256 first, X25519 for peers that want it: the hybrid
		// post-quantum exchange Go prefers costs every launch time, for
		// keys that live as long as one local socket, and Go's P-256 is
		// assembly where its X25519 is not (about half the time per side).
		CurvePreferences: []tls.CurveID{tls.CurveP256, tls.X25519},
	}
}

// trustOnly makes cfg, fresh from selfConfig, accept peerDER and only it
// as the other side. It adds to the pool that cfg shares with its clones
// (credentials.NewTLS clones), so a clone made before trusts the peer too.
func trustOnly(cfg *tls.Config, peerDER []byte) error {
	peer, err := x509.ParseCertificate(peerDER)
	if err != nil {
		return fmt.Errorf("sdk: tls: parse peer certificate: %w", err)
	}
	cfg.RootCAs.AddCert(peer)
	return nil
}

// tlsMaterial is what the host hands a plugin through the inherited pipe
// named by MM_PLUGIN_TLS_FD: one JSON document, then end of file.
type tlsMaterial struct {
	Version    int    `json:"version"`    // 1
	ServerCert []byte `json:"serverCert"` // the plugin's certificate, DER
	ServerKey  []byte `json:"serverKey"`  // the plugin's key, PKCS#8 DER
	ClientCert []byte `json:"clientCert"` // the host's certificate, DER
}

// hostTLS is the host's half of a launch: its TLS configuration and the
// PEM of its certificate (for PLUGIN_CLIENT_CERT). The plugin's identity is
// made by pluginMaterial once the plugin process is starting, so that its
// cost overlaps the plugin's own start-up instead of delaying it.
type hostTLS struct {
	config   *tls.Config // trusts the plugin only once pluginMaterial ran
	certPEM  []byte
	host     *tlsIdentity
	notAfter time.Time
}

// newHostTLS creates the host's identity for one plugin launch.
func newHostTLS() (*hostTLS, error) {
	notAfter := time.Now().Add(30 * 24 * time.Hour)
	host, err := newIdentity(notAfter)
	if err != nil {
		return nil, err
	}
	return &hostTLS{config: selfConfig(host), certPEM: pemBlock("CERTIFICATE", host.der), host: host, notAfter: notAfter}, nil
}

// pluginMaterial creates the plugin's identity, makes the host's
// configuration trust it and nothing else, and returns what the plugin
// reads from its pipe. It must run before the host first connects.
func (h *hostTLS) pluginMaterial() ([]byte, error) {
	plug, err := newIdentity(h.notAfter)
	if err != nil {
		return nil, err
	}
	keyDER, err := plug.keyDER()
	if err != nil {
		return nil, err
	}
	material, err := json.Marshal(tlsMaterial{Version: 1, ServerCert: plug.der, ServerKey: keyDER, ClientCert: h.host.der})
	if err != nil {
		return nil, fmt.Errorf("sdk: tls: encode material: %w", err)
	}
	if err := trustOnly(h.config, plug.der); err != nil {
		return nil, err
	}
	return material, nil
}

// pluginTLSConfig turns the material received from the host into the
// plugin's TLS configuration.
func pluginTLSConfig(raw []byte) (*tls.Config, error) {
	var m tlsMaterial
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("sdk: tls: decode material: %w", err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("sdk: tls: material version %d, want 1", m.Version)
	}
	id, err := parseIdentity(m.ServerCert, m.ServerKey)
	if err != nil {
		return nil, err
	}
	return mutualConfig(id, m.ClientCert)
}
