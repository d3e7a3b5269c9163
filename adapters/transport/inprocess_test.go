package transport

import "testing"

func TestInProcessCarriesWorkByReference(t *testing.T) {
	tr := InProcess()
	if !tr.InProcess || tr.Durable || tr.Publisher == nil || tr.Subscriber == nil {
		t.Errorf("InProcess() = %+v", tr)
	}
}
