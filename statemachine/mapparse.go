package statemachine

import "fmt"

// s3GetObjectARN is the only ItemReader resource the runner reads.
const s3GetObjectARN = "arn:aws:states:::s3:getObject"

// processorFields are the fields of an ItemProcessor (Iterator has no
// ProcessorConfig).
var processorFields = []string{"StartAt", "States", "Comment", "ProcessorConfig"}

func (p *parser) mapState(f *fields, st *stateDef, scope string) {
	f.onlyAllowed(mapStateFields...)
	p.transition(f, st)
	p.inputOutput(f, st)
	p.resultHandling(f, st)
	st.io.resultSelector = f.template("ResultSelector")
	st.retry = p.retriers(f)
	st.catch = p.catchers(f)
	ms := &mapSpec{toleratedCount: -1, toleratedPercent: -1}
	st.mapSpec = ms
	if f.err != nil {
		return
	}
	p.processor(f, ms, scope)
	ms.itemsPath, _ = f.path("ItemsPath")
	ms.itemSelector = f.template("ItemSelector")
	if ms.itemSelector != nil && st.io.parameters != nil {
		f.fail("Parameters", "use ItemSelector or the legacy Parameters, not both")
	}
	if ms.itemSelector == nil {
		ms.itemSelector, st.io.parameters = st.io.parameters, nil
	}
	if n, ok := f.integer("MaxConcurrency", 0); ok {
		ms.maxConcurrency = int(n)
	}
	p.distributedFields(f, st, ms)
}

func (p *parser) processor(f *fields, ms *mapSpec, scope string) {
	key := "ItemProcessor"
	switch {
	case f.has("ItemProcessor") && f.has("Iterator"):
		f.fail("Iterator", "use ItemProcessor or the legacy Iterator, not both")
		return
	case f.has("Iterator"):
		key = "Iterator"
	case !f.has("ItemProcessor"):
		f.fail("ItemProcessor", "a Map state needs an ItemProcessor (or Iterator)")
		return
	}
	allowed := processorFields
	if key == "Iterator" {
		allowed = processorFields[:3]
	}
	if key == "ItemProcessor" {
		ms.distributed = p.processorConfig(f)
	}
	def, err := p.machine(f.obj[key], fmt.Sprintf("%s: %s", f.where, key), scope, allowed)
	if err != nil {
		f.err = firstErr(f.err, err)
		return
	}
	if def.timeout != 0 {
		f.fail(key, "TimeoutSeconds is not allowed inside a Map")
	}
	ms.processor = def
}

// processorConfig reads ItemProcessor.ProcessorConfig and reports whether
// the Map is distributed.
func (p *parser) processorConfig(f *fields) bool {
	proc, ok := f.obj["ItemProcessor"].(map[string]any)
	if !ok || proc["ProcessorConfig"] == nil {
		return false
	}
	cf, err := newFields(proc["ProcessorConfig"], f.where+": ItemProcessor.ProcessorConfig")
	if err != nil {
		f.err = firstErr(f.err, err)
		return false
	}
	cf.onlyAllowed("Mode", "ExecutionType")
	distributed := false
	switch mode := cf.str("Mode"); mode {
	case "", "INLINE":
		if cf.has("ExecutionType") {
			cf.fail("ExecutionType", "only a DISTRIBUTED Map has an ExecutionType")
		}
	case "DISTRIBUTED":
		distributed = true
		switch et := cf.str("ExecutionType"); et {
		case "STANDARD":
		case "EXPRESS":
			cf.fail("ExecutionType", "EXPRESS is not supported by the local runner (moto's engine rejects it too); use STANDARD")
		default:
			cf.fail("ExecutionType", "a DISTRIBUTED Map needs ExecutionType STANDARD, got %q", et)
		}
	default:
		cf.fail("Mode", "must be INLINE or DISTRIBUTED, got %q", mode)
	}
	f.err = firstErr(f.err, cf.err)
	return distributed
}

// distributedFields reads the fields only a Distributed Map may carry.
func (p *parser) distributedFields(f *fields, st *stateDef, ms *mapSpec) {
	for _, k := range []string{"ItemReader", "ResultWriter", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label"} {
		if f.has(k) && !ms.distributed {
			f.fail(k, "is only allowed in a Map whose ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED")
			return
		}
	}
	if n, ok := f.integer("ToleratedFailureCount", 0); ok {
		ms.toleratedCount = int(n)
	}
	if pct, ok := f.number("ToleratedFailurePercentage"); ok {
		if pct < 0 || pct > 100 {
			f.fail("ToleratedFailurePercentage", "must be from 0 to 100")
		}
		ms.toleratedPercent = pct
	}
	if f.has("ResultWriter") {
		p.note(st, "ResultWriter is ignored locally: the Map's result is the array of child outputs")
	}
	if f.has("ItemReader") {
		if ms.itemsPath != nil {
			f.fail("ItemsPath", "a Map with an ItemReader reads its items from S3; remove ItemsPath")
		}
		ms.reader = p.itemReader(f)
	}
}

func (p *parser) itemReader(f *fields) *readerSpec {
	rf, err := newFields(f.obj["ItemReader"], f.where+": ItemReader")
	if err != nil {
		f.err = firstErr(f.err, err)
		return nil
	}
	rf.onlyAllowed("Resource", "ReaderConfig", "Parameters")
	if res := rf.requiredStr("Resource"); res != s3GetObjectARN && rf.err == nil {
		rf.fail("Resource", "only %s is supported by the local runner, got %q", s3GetObjectARN, res)
	}
	r := &readerSpec{params: rf.template("Parameters")}
	if r.params == nil || r.params.field("Bucket") == nil || r.params.field("Key") == nil {
		rf.fail("Parameters", "needs Bucket and Key")
	}
	p.readerConfig(rf, r)
	f.err = firstErr(f.err, rf.err)
	return r
}

func (p *parser) readerConfig(rf *fields, r *readerSpec) {
	cf, err := newFields(rf.obj["ReaderConfig"], rf.where+".ReaderConfig")
	if err != nil {
		rf.err = firstErr(rf.err, err)
		return
	}
	cf.onlyAllowed("InputType", "MaxItems")
	if it := cf.str("InputType"); it != "JSON" && cf.err == nil {
		cf.fail("InputType", "only JSON is supported by the local runner, got %q", it)
	}
	if n, ok := cf.integer("MaxItems", 1); ok {
		r.maxItems = int(n)
	}
	rf.err = firstErr(rf.err, cf.err)
}
