package wheelaudit

import (
	"archive/zip"
	"io"
	"sync"

	kflate "github.com/klauspost/compress/flate"
)

// pooledInflater returns a zip decompressor for one archive that reuses its
// inflaters: the audit opens every member to look for ELF files, and
// klauspost/compress inflates about twice as fast as compress/flate
// (BenchmarkAudit).
func pooledInflater() zip.Decompressor {
	pool := &sync.Pool{}
	return func(r io.Reader) io.ReadCloser {
		if fr, ok := pool.Get().(io.ReadCloser); ok {
			if err := fr.(kflate.Resetter).Reset(r, nil); err == nil {
				return &pooledReader{rc: fr, pool: pool}
			}
		}
		return &pooledReader{rc: kflate.NewReader(r), pool: pool}
	}
}

// pooledReader returns its inflater to the pool on the first Close.
type pooledReader struct {
	rc   io.ReadCloser
	pool *sync.Pool
}

func (p *pooledReader) Read(b []byte) (int, error) {
	if p.rc == nil {
		return 0, io.ErrClosedPipe
	}
	return p.rc.Read(b)
}

func (p *pooledReader) Close() error {
	if p.rc == nil {
		return nil
	}
	err := p.rc.Close()
	p.pool.Put(p.rc)
	p.rc = nil
	return err
}
