package testfixture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite is a running Azure Storage (blob) emulator.
type Azurite struct {
	Endpoint string // http://127.0.0.1:PORT/devstoreaccount1
	cred     *azblob.SharedKeyCredential
}

// AzuriteServer installs Azurite into .tools/azurite (scripts/get-tools.sh azurite: npm, pinned)
// if needed and starts its blob service on a free loopback port for the test.
func AzuriteServer(t testing.TB) *Azurite {
	t.Helper()
	bin := filepath.Join(RepoRoot(), ".tools", "azurite", "node_modules", ".bin", "azurite-blob")
	if err := runScript("get-tools.sh", "azurite"); err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t)
	data := t.TempDir()
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", data,
		"--silent", "--skipApiVersionCheck", "--loose")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitListening("tcp", addr, 60*time.Second); err != nil {
		t.Fatalf("azurite did not start: %v\n%s", err, out.String())
	}
	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	return &Azurite{Endpoint: "http://" + addr + "/" + azuriteAccount, cred: cred}
}

// UploadPageBlob uploads a local file (a fixed VHD: a multiple of 512 bytes) as a page blob,
// writing only the 4 MiB ranges that are not all zeros, as Azure keeps VHDs sparse, and returns
// a read-only SAS URL valid for an hour.
func (a *Azurite) UploadPageBlob(t testing.TB, container, name, path string) string {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size()%512 != 0 {
		t.Fatalf("%s: %d bytes, not a multiple of 512", path, st.Size())
	}
	svc, err := azblob.NewClientWithSharedKeyCredential(a.Endpoint+"/", a.cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateContainer(ctx, container, nil); err != nil && !strings.Contains(err.Error(), "ContainerAlreadyExists") {
		t.Fatal(err)
	}
	pb, err := pageblob.NewClientWithSharedKeyCredential(a.Endpoint+"/"+container+"/"+name, a.cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.Create(ctx, st.Size(), nil); err != nil {
		t.Fatal(err)
	}
	const chunk = 4 << 20
	buf := make([]byte, chunk)
	zero := make([]byte, chunk)
	for off := int64(0); off < st.Size(); off += chunk {
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if bytes.Equal(buf[:n], zero[:n]) {
			continue
		}
		body := streamingNopCloser{bytes.NewReader(buf[:n])}
		if _, err := pb.UploadPages(ctx, body, blob.HTTPRange{Offset: off, Count: int64(n)}, nil); err != nil {
			t.Fatalf("uploading pages at %d: %v", off, err)
		}
	}
	u, err := pb.BlobClient().GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type streamingNopCloser struct{ *bytes.Reader }

func (streamingNopCloser) Close() error { return nil }
