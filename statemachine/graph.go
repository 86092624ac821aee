package statemachine

import (
	"fmt"
	"sort"
)

// checkGraph refuses transitions to missing states, states nothing reaches
// and machines with no terminal state.
func checkGraph(def *machineDef, where, scope string) error {
	if _, ok := def.states[def.startAt]; !ok {
		return fmt.Errorf("%s: field \"StartAt\": state %q does not exist", where, def.startAt)
	}
	names := make([]string, 0, len(def.states))
	for name := range def.states {
		names = append(names, name)
	}
	sort.Strings(names)
	terminal := false
	for _, name := range names {
		st := def.states[name]
		for _, t := range st.targets() {
			if _, ok := def.states[t.to]; !ok {
				return fmt.Errorf("%s: field %q: target state %q does not exist", stateWhere(scope, name), t.field, t.to)
			}
		}
		terminal = terminal || st.end || st.typ == "Succeed" || st.typ == "Fail"
	}
	if !terminal {
		return fmt.Errorf("%s: no state ends the machine (End, Succeed or Fail)", where)
	}
	reached := reachable(def)
	for _, name := range names {
		if !reached[name] {
			return fmt.Errorf("%s: not reachable from StartAt %q", stateWhere(scope, name), def.startAt)
		}
	}
	return nil
}

type transitionRef struct{ field, to string }

func (st *stateDef) targets() []transitionRef {
	var out []transitionRef
	if st.next != "" {
		out = append(out, transitionRef{"Next", st.next})
	}
	if st.defaultNext != "" {
		out = append(out, transitionRef{"Default", st.defaultNext})
	}
	for i, c := range st.choices {
		out = append(out, transitionRef{fmt.Sprintf("Choices[%d].Next", i), c.next})
	}
	for i, c := range st.catch {
		out = append(out, transitionRef{fmt.Sprintf("Catch[%d].Next", i), c.next})
	}
	return out
}

func reachable(def *machineDef) map[string]bool {
	seen := map[string]bool{def.startAt: true}
	queue := []string{def.startAt}
	for len(queue) > 0 {
		st := def.states[queue[0]]
		queue = queue[1:]
		for _, t := range st.targets() {
			if !seen[t.to] {
				seen[t.to] = true
				queue = append(queue, t.to)
			}
		}
	}
	return seen
}
