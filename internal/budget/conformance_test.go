package budget_test

import (
	"testing"

	"github.com/leadflow/attom-batch/internal/batch/storetest"
	"github.com/leadflow/attom-batch/internal/budget"
)

// TestMemoryConformance runs the Budget part of the store conformance suite, the same
// checks the SQLite and DynamoDB budgets pass.
func TestMemoryConformance(t *testing.T) {
	storetest.RunBudget(t, func(*testing.T) budget.Budget { return budget.NewMemory(1000) })
}
