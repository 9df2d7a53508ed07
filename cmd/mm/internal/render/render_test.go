package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mm-wallet/mm/sdk"
)

type res struct {
	Address string `json:"address"`
	N       int    `json:"n"`
}

type texted struct{ S string }

func (t texted) Text() string { return "custom " + t.S + "\n" }

func TestResultFormats(t *testing.T) {
	var b bytes.Buffer
	if err := Result(&b, JSON, res{"0xAb<&>", 1}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n  \"address\": \"0xAb<&>\",\n  \"n\": 1\n}\n" {
		t.Errorf("json: %q", b.String())
	}
	b.Reset()
	_ = Result(&b, TOON, res{"0xAb", 1})
	if b.String() != "address: 0xAb\nn: 1\n" {
		t.Errorf("toon: %q", b.String())
	}
	b.Reset()
	_ = Result(&b, Text, res{"0xAb", 1})
	if b.String() != "address: 0xAb\nn: 1\n" {
		t.Errorf("text fallback: %q", b.String())
	}
	b.Reset()
	_ = Result(&b, Text, texted{"x"})
	if b.String() != "custom x\n" {
		t.Errorf("texter: %q", b.String())
	}
}

func TestError(t *testing.T) {
	e := sdk.NewError("WRONG_PASSWORD", "wrong password", "check MM_PASSWORD")
	var out, errb bytes.Buffer
	Error(&out, &errb, JSON, e, false)
	var doc ErrorDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Error.Code != "WRONG_PASSWORD" || doc.Error.Hint != "check MM_PASSWORD" {
		t.Errorf("json error: %s %v", out.Bytes(), err)
	}
	if errb.Len() != 0 {
		t.Error("json mode wrote to stderr")
	}
	out.Reset()
	Error(&out, &errb, Text, e, true)
	if out.Len() != 0 || !strings.Contains(errb.String(), "\x1b[31merror:\x1b[0m wrong password (WRONG_PASSWORD)\n") || !strings.Contains(errb.String(), "hint:") {
		t.Errorf("text error: %q", errb.String())
	}
	errb.Reset()
	Error(&out, &errb, Text, e, false)
	if strings.Contains(errb.String(), "\x1b") {
		t.Error("color without color")
	}
}
