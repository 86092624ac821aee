package statemachine

import (
	"regexp"
	"time"
)

// machineDef is a validated state machine, or a Map's item processor.
type machineDef struct {
	startAt string
	states  map[string]*stateDef
	timeout time.Duration // execution TimeoutSeconds; 0 = none
}

// stateDef is one validated state. Only the fields of its Type are set.
type stateDef struct {
	name string
	typ  string
	next string
	end  bool

	io ioSpec

	retry []retrier
	catch []catcher

	// Task
	resource string
	timeout  time.Duration
	// Pass
	result    any
	hasResult bool
	// Wait
	wait waitSpec
	// Choice
	choices     []*choiceRule
	defaultNext string
	// Fail
	failError, failCause         string
	failErrorPath, failCausePath *jsonPath
	// Map
	mapSpec *mapSpec
}

// ioSpec is a state's input and output processing. A nil path means the
// default ($); the null flags record an explicit JSON null.
type ioSpec struct {
	inputPath      *jsonPath
	inputNull      bool
	parameters     *payloadTemplate
	resultSelector *payloadTemplate
	resultPath     *jsonPath
	resultNull     bool
	outputPath     *jsonPath
	outputNull     bool
}

type retrier struct {
	errorEquals []string
	interval    time.Duration
	maxAttempts int
	backoffRate float64
	maxDelay    time.Duration // 0 = no cap
	fullJitter  bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  *jsonPath
	resultNull  bool
}

type waitSpec struct {
	seconds       int64
	hasSeconds    bool
	secondsPath   *jsonPath
	timestamp     time.Time
	hasTimestamp  bool
	timestampPath *jsonPath
}

type mapSpec struct {
	processor        *machineDef
	distributed      bool
	itemsPath        *jsonPath
	itemSelector     *payloadTemplate
	reader           *readerSpec
	maxConcurrency   int
	toleratedCount   int     // -1 = not set
	toleratedPercent float64 // -1 = not set
}

type readerSpec struct {
	params   *payloadTemplate
	maxItems int // 0 = all
}

// choiceRule is a Choice state's rule: a boolean combinator or a comparison
// of the value at variable with a literal or with the value at valuePath.
type choiceRule struct {
	next      string
	and, or   []*choiceRule
	not       *choiceRule
	variable  *jsonPath
	op        string
	value     any
	valuePath *jsonPath
	timestamp time.Time
	pattern   *regexp.Regexp
}
