package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

func TestHandlerVerifiesAndPrints(t *testing.T) {
	t.Parallel()
	secret, err := sdk.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdk.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sdk.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := handler(v, http.StatusAccepted, &out)

	body := []byte(`{"specversion":"1.0","id":"01J","source":"t","type":"payment.failed","tenantid":"acme","data":{"amount":5}}`)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	signer.SetHeaders(req.Header, "01J:webhook", time.Now(), body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || !strings.Contains(out.String(), "type=payment.failed tenant=acme") {
		t.Errorf("signed request: %d, printed %q", rec.Code, out.String())
	}

	out.Reset()
	req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	signer.SetHeaders(req.Header, "01J:webhook", time.Now(), []byte("other body"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(out.String(), "REJECTED") {
		t.Errorf("tampered request: %d, printed %q", rec.Code, out.String())
	}
}
