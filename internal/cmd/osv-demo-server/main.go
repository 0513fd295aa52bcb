// Command osv-demo-server serves the demo's OSV dump over HTTPS on a loopback port, as OSV's
// bucket serves an ecosystem's all.zip, so that `make demo` runs the download path of
// security-updates-installed offline. It writes its certificate (for SSL_CERT_FILE) and the
// dump's URL to files, then serves until it is killed or its parent's stdin closes.
//
//	osv-demo-server -cert demo/osv-ca.pem -url demo/osv-url
package main

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func main() {
	records := flag.String("records", "testdata/osv", "serve the OSV records (*.json) of this directory as the Debian dump")
	certPath := flag.String("cert", "osv-ca.pem", "write the server's certificate (PEM) here")
	urlPath := flag.String("url", "osv-url", "write the dump's URL here")
	flag.Parse()
	if err := run(*records, *certPath, *urlPath); err != nil {
		fmt.Fprintln(os.Stderr, "osv-demo-server:", err)
		os.Exit(1)
	}
}

// dump zips the records of dir, as OSV's all.zip holds one record per member.
func dump(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no OSV records in %s", dir)
	}
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m, err := w.Create(filepath.Base(f))
		if err != nil {
			return nil, err
		}
		m.Write(data)
	}
	if err := w.Close(); err != nil { // writes the central directory
		return nil, err
	}
	return b.Bytes(), nil
}

func run(records, certPath, urlPath string) error {
	data, err := dump(records)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osv-demo-server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	modified := time.Now().UTC()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/Debian/all.zip" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/zip")
			http.ServeContent(w, r, "all.zip", modified, bytes.NewReader(data))
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/Debian/all.zip", ln.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(urlPath, []byte(url+"\n"), 0o644); err != nil {
		return err
	}
	go func() {
		io.Copy(io.Discard, os.Stdin) // the demo closes our stdin when it is done
		srv.Close()
	}()
	if err := srv.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}
