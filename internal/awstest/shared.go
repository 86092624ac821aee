package awstest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Shared is one moto server for a whole test package: TestMain calls Run, tests call Config.
type Shared struct {
	moto *Moto
	err  error
}

// Run starts moto, runs the package's tests and stops moto; it returns the exit code.
func (s *Shared) Run(m *testing.M) int {
	s.moto, s.err = Launch()
	code := m.Run()
	if s.moto != nil {
		s.moto.Stop()
	}
	return code
}

// Config returns an SDK config aimed at the package's moto, skipping the test when moto is
// not installed and failing it when moto did not start.
func (s *Shared) Config(t testing.TB) aws.Config {
	t.Helper()
	if errors.Is(s.err, ErrNoMoto) {
		t.Skip(s.err.Error())
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	cfg, err := s.moto.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
