package attom_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
)

func TestParseEndpoints(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"expandedprofile,avm", []string{"expandedprofile", "avm"}, ""},
		{" AVM , homeequity,avm,", []string{"avm", "homeequity"}, ""},
		{"preforeclosure", []string{"preforeclosure"}, ""},
		{"expandedprofile,basicprofile", nil, `unknown endpoint "basicprofile"`},
		{" , ", nil, "no endpoint"},
	}
	for _, tc := range tests {
		got, err := attom.ParseEndpoints(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "expandedprofile, avm, homeequity, preforeclosure") {
				t.Errorf("ParseEndpoints(%q) error = %v, want %q and the known names", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseEndpoints(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestDecodeBodyReadsBothSpellings(t *testing.T) {
	tests := []struct{ name, body string }{
		{"profile camelCase", `{"status":{"code":0,"msg":"SuccessWithResult","total":1,"transactionID":"t1"},"property":[{"identifier":{"Id":42,"attomId":42},"location":{"latitude":"39.5","longitude":"-105.1"},"summary":{"propClass":"Single Family Residence / Townhouse","yearBuilt":1977,"REOflag":"N"},"assessment":{"market":{"mktTtlValue":"350000"},"owner":{"owner1":{"fullName":"JOHN SMITH "}}}}]}`},
		{"detail lower case", `{"status":{"code":"0","msg":"SuccessWithResult","total":"1","transactionID":"t1"},"property":[{"identifier":{"id":"42","attomid":42},"location":{"latitude":39.5,"longitude":-105.1},"summary":{"propclass":"Single Family Residence / Townhouse","yearbuilt":"1977","reoflag":false},"assessment":{"market":{"mktttlvalue":350000},"owner":{"owner1":{"fullname":"JOHN SMITH "}}}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := attom.DecodeBody([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			p := d.Property
			switch {
			case d.Count != 1 || d.Status.TransactionID != "t1" || d.Status.Total.Int() != 1:
				t.Errorf("status = %+v count %d", d.Status, d.Count)
			case p.Identifier.AttomID.Int() != 42 || p.Location.Latitude.Value != 39.5:
				t.Errorf("identifier/location = %+v %+v", p.Identifier, p.Location)
			case p.Summary.PropClass == "" || p.Summary.YearBuilt.Int() != 1977 || p.Summary.REOFlag != (attom.Flag{Valid: true}):
				t.Errorf("summary = %+v", p.Summary)
			case p.Assessment.Market.MktTtlValue.Value != 350000 || p.Assessment.Owner.Owner1.FullName != "JOHN SMITH ":
				t.Errorf("assessment = %+v", p.Assessment)
			}
			if !strings.HasPrefix(string(d.Raw), `{"identifier"`) {
				t.Errorf("raw = %s", d.Raw)
			}
		})
	}
	if _, err := attom.DecodeBody([]byte(`{"status":{"code":0},"property":[{"identifier":`)); err == nil {
		t.Error("truncated body decoded without error")
	}
}

func TestNumReadsATTOMSpellings(t *testing.T) {
	tests := []struct {
		in   string
		want attom.Num
	}{
		{`123.5`, attom.NewNum(123.5)},
		{`"39.647803"`, attom.NewNum(39.647803)},
		{`" 42 "`, attom.NewNum(42)},
		{`"1\u0032"`, attom.NewNum(12)},
		{`""`, attom.Num{}},
		{`null`, attom.Num{}},
		{`"N/A"`, attom.Num{}},
	}
	for _, tc := range tests {
		var n attom.Num
		if err := n.UnmarshalJSON([]byte(tc.in)); err != nil || n != tc.want {
			t.Errorf("Num(%s) = %+v, %v; want %+v", tc.in, n, err, tc.want)
		}
	}
}
