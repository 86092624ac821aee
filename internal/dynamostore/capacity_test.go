package dynamostore

import (
	"context"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// meter counts the capacity units DynamoDB would bill for every request a client makes,
// since moto's ConsumedCapacity is a constant (1.0 per request, whatever the item). It is
// an SDK middleware that reads the item before and after each write with a client of its
// own and applies DynamoDB's rules:
//
//   - item size: the sum of attribute name lengths and value sizes (a string its UTF-8
//     bytes, a number about one byte per two significant digits plus one, a boolean or null
//     one byte, a list or map 3 bytes plus one per element plus the elements).
//   - a write costs ceil(size / 1 KB) units on the table, the larger of the item before and
//     after (at least 1); a write whose condition fails still costs that (a put: the larger
//     of the stored item and the one sent).
//   - each global secondary index the write touches costs ceil(projected size / 1 KB): a put
//     when the item enters the index, a delete when it leaves, both when its index key
//     changes, one write when a projected attribute changes under the same key, nothing
//     when nothing projected changes. A failed write touches no index.
//   - reads: ceil(size / 4 KB) per item read by GetItem and BatchGetItem (at least 1, also
//     for a key with no item), per page summed for Query; half for eventually consistent
//     reads.
//
// Requests are serialized while metered, so the before and after reads see only that
// request's change (moto serializes them anyway).
type meter struct {
	raw    *dynamodb.Client // unmetered, for the before and after reads
	mu     sync.Mutex
	shapes map[string]tableShape
	wcu    map[string]float64 // by "table kind op" (and "table[index] op")
	rcu    map[string]float64
	calls  map[string]int
	bytes  map[string]int // item bytes written, by label
}

type tableShape struct {
	keys    []string
	indexes []indexShape
}

type indexShape struct {
	name       string
	keys       []string
	projection types.ProjectionType
	include    []string
}

func newMeter(raw *dynamodb.Client) *meter {
	return &meter{raw: raw, shapes: map[string]tableShape{},
		wcu: map[string]float64{}, rcu: map[string]float64{}, calls: map[string]int{}, bytes: map[string]int{}}
}

// option adds the meter to a client's stack.
func (m *meter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capacityMeter", m.handle), middleware.Before)
	})
}

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.wcu)
	clear(m.rcu)
	clear(m.calls)
	clear(m.bytes)
}

func (m *meter) totals() (wcu, rcu float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.wcu {
		wcu += v
	}
	for _, v := range m.rcu {
		rcu += v
	}
	return wcu, rcu
}

// report is the breakdown, largest first, per address when n > 0.
func (m *meter) report(n int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	line := func(kind string, units map[string]float64) {
		names := slices.SortedFunc(maps.Keys(units), func(a, b string) int {
			if units[a] != units[b] {
				if units[a] > units[b] {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
		for _, name := range names {
			fmt.Fprintf(&b, "  %s %-40s %8.1f units %6.3f per address (%d requests, %d bytes on average)\n",
				kind, name, units[name], units[name]/float64(n), m.calls[name], m.bytes[name]/max(m.calls[name], 1))
		}
	}
	line("WCU", m.wcu)
	line("RCU", m.rcu)
	return b.String()
}

func (m *meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	switch p := in.Parameters.(type) {
	case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput, *dynamodb.DeleteItemInput, *dynamodb.BatchWriteItemInput,
		*dynamodb.GetItemInput, *dynamodb.BatchGetItemInput, *dynamodb.QueryInput:
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.metered(ctx, p, in, next)
	case *dynamodb.TransactWriteItemsInput, *dynamodb.TransactGetItemsInput, *dynamodb.ScanInput:
		return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("capacity meter: %T is not metered", p)
	}
	return next.HandleInitialize(ctx, in)
}

// write is one item write within a request.
type write struct {
	table string
	key   map[string]types.AttributeValue
	put   map[string]types.AttributeValue // the item a put sends
	op    string
	old   map[string]types.AttributeValue
}

func (m *meter) metered(ctx context.Context, p any, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	var writes []*write
	switch p := p.(type) {
	case *dynamodb.PutItemInput:
		writes = append(writes, &write{table: aws.ToString(p.TableName), put: p.Item, op: "PutItem"})
	case *dynamodb.UpdateItemInput:
		writes = append(writes, &write{table: aws.ToString(p.TableName), key: p.Key, op: "UpdateItem"})
	case *dynamodb.DeleteItemInput:
		writes = append(writes, &write{table: aws.ToString(p.TableName), key: p.Key, op: "DeleteItem"})
	case *dynamodb.BatchWriteItemInput:
		for table, reqs := range p.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					writes = append(writes, &write{table: table, put: r.PutRequest.Item, op: "BatchWriteItem"})
				case r.DeleteRequest != nil:
					writes = append(writes, &write{table: table, key: r.DeleteRequest.Key, op: "BatchWriteItem"})
				}
			}
		}
	}
	for _, w := range writes {
		shape, err := m.shape(ctx, w.table)
		if err != nil {
			return middleware.InitializeOutput{}, middleware.Metadata{}, err
		}
		if w.key == nil {
			w.key = project(w.put, shape.keys)
		}
		if w.old, err = m.get(ctx, w.table, w.key); err != nil {
			return middleware.InitializeOutput{}, middleware.Metadata{}, err
		}
	}
	out, md, err := next.HandleInitialize(ctx, in)
	failed := isConditionFailed(err)
	if err != nil && !failed {
		return out, md, err
	}
	if bw, ok := out.Result.(*dynamodb.BatchWriteItemOutput); ok && err == nil && len(bw.UnprocessedItems) > 0 {
		return out, md, fmt.Errorf("capacity meter: unprocessed items are not metered")
	}
	for _, w := range writes {
		if merr := m.chargeWrite(ctx, w, failed); merr != nil {
			return out, md, merr
		}
	}
	if err == nil {
		m.chargeRead(p, out.Result)
	}
	return out, md, err
}

func (m *meter) chargeWrite(ctx context.Context, w *write, failed bool) error {
	shape := m.shapes[w.table]
	label := m.label(w.table, w.key) + " " + w.op
	m.calls[label]++
	if failed {
		m.wcu[label] += units(max(itemSize(w.old), itemSize(w.put)), 1024)
		return nil
	}
	cur, err := m.get(ctx, w.table, w.key)
	if err != nil {
		return err
	}
	m.wcu[label] += units(max(itemSize(w.old), itemSize(cur)), 1024)
	m.bytes[label] += max(itemSize(w.old), itemSize(cur))
	for _, ix := range shape.indexes {
		c := indexCost(shape, ix, w.old, cur)
		if c > 0 {
			l := fmt.Sprintf("%s[%s] %s", m.label(w.table, w.key), ix.name, w.op)
			m.wcu[l] += c
			m.calls[l]++
			m.bytes[l] += max(itemSize(projected(shape, ix, w.old)), itemSize(projected(shape, ix, cur)))
		}
	}
	return nil
}

// indexCost is what one item write costs in one index.
func indexCost(shape tableShape, ix indexShape, old, cur map[string]types.AttributeValue) float64 {
	inOld, inNew := hasAll(old, ix.keys), hasAll(cur, ix.keys)
	po, pn := projected(shape, ix, old), projected(shape, ix, cur)
	switch {
	case inOld && inNew && reflect.DeepEqual(project(old, ix.keys), project(cur, ix.keys)):
		if reflect.DeepEqual(po, pn) {
			return 0
		}
		return units(max(itemSize(po), itemSize(pn)), 1024)
	case inOld && inNew:
		return units(itemSize(po), 1024) + units(itemSize(pn), 1024)
	case inOld:
		return units(itemSize(po), 1024)
	case inNew:
		return units(itemSize(pn), 1024)
	}
	return 0
}

func projected(shape tableShape, ix indexShape, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil {
		return nil
	}
	switch ix.projection {
	case types.ProjectionTypeAll:
		return item
	case types.ProjectionTypeInclude:
		return project(item, slices.Concat(shape.keys, ix.keys, ix.include))
	}
	return project(item, slices.Concat(shape.keys, ix.keys))
}

func (m *meter) chargeRead(p any, result any) {
	add := func(table string, key map[string]types.AttributeValue, op string, size int, consistent bool) {
		label := m.label(table, key) + " " + op
		u := units(size, 4096)
		if !consistent {
			u /= 2
		}
		m.rcu[label] += u
		m.calls[label]++
		m.bytes[label] += size
	}
	switch p := p.(type) {
	case *dynamodb.GetItemInput:
		out := result.(*dynamodb.GetItemOutput)
		add(aws.ToString(p.TableName), p.Key, "GetItem", itemSize(out.Item), aws.ToBool(p.ConsistentRead))
	case *dynamodb.BatchGetItemInput:
		out := result.(*dynamodb.BatchGetItemOutput)
		for table, req := range p.RequestItems {
			items := out.Responses[table]
			for _, it := range items {
				add(table, it, "BatchGetItem", itemSize(it), aws.ToBool(req.ConsistentRead))
			}
			// A key with no item still costs the minimum read.
			for _, key := range req.Keys[min(len(items), len(req.Keys)):] {
				add(table, key, "BatchGetItem (no item)", 0, aws.ToBool(req.ConsistentRead))
			}
		}
	case *dynamodb.QueryInput:
		out := result.(*dynamodb.QueryOutput)
		size := 0
		for _, it := range out.Items {
			size += itemSize(it)
		}
		table := aws.ToString(p.TableName)
		op := "Query"
		if p.IndexName != nil {
			op = "Query[" + aws.ToString(p.IndexName) + "]"
		}
		var first map[string]types.AttributeValue
		if len(out.Items) > 0 {
			first = out.Items[0]
		}
		add(table, first, op, size, aws.ToBool(p.ConsistentRead))
	}
}

// label names a table by its role (the part after the test's prefix) and, in the lookups
// table, the kind of item.
func (m *meter) label(table string, key map[string]types.AttributeValue) string {
	name := table[strings.LastIndexByte(table, '-')+1:]
	if name != "lookups" {
		return name
	}
	pk, _ := key[attrJobChunk].(*types.AttributeValueMemberS)
	switch {
	case pk == nil:
		return name
	case strings.HasPrefix(pk.Value, answerPrefix):
		return name + "/answer"
	case strings.HasPrefix(pk.Value, "lease#"):
		return name + "/lease"
	}
	return name + "/lookup"
}

func (m *meter) shape(ctx context.Context, table string) (tableShape, error) {
	if s, ok := m.shapes[table]; ok {
		return s, nil
	}
	out, err := m.raw.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return tableShape{}, err
	}
	var s tableShape
	for _, k := range out.Table.KeySchema {
		s.keys = append(s.keys, aws.ToString(k.AttributeName))
	}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		ix := indexShape{name: aws.ToString(g.IndexName), projection: g.Projection.ProjectionType, include: g.Projection.NonKeyAttributes}
		for _, k := range g.KeySchema {
			ix.keys = append(ix.keys, aws.ToString(k.AttributeName))
		}
		s.indexes = append(s.indexes, ix)
	}
	m.shapes[table] = s
	return s, nil
}

func (m *meter) get(ctx context.Context, table string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := m.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("capacity meter: read %s: %w", table, err)
	}
	return out.Item, nil
}

func project(item map[string]types.AttributeValue, names []string) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for _, n := range names {
		if v, ok := item[n]; ok {
			out[n] = v
		}
	}
	return out
}

func hasAll(item map[string]types.AttributeValue, names []string) bool {
	if item == nil {
		return false
	}
	for _, n := range names {
		if _, ok := item[n]; !ok {
			return false
		}
	}
	return true
}

// units is ceil(size / per), at least 1 for any request.
func units(size, per int) float64 {
	return math.Max(1, math.Ceil(float64(size)/float64(per)))
}

// itemSize is an item's size by DynamoDB's rules.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + 1 + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize is one byte per two significant digits plus one.
func numberSize(s string) int {
	digits := strings.Trim(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.SplitN(strings.ToLower(s), "e", 2)[0]), "0")
	return (len(digits)+1)/2 + 1
}

func TestMeterItemSizes(t *testing.T) {
	item := map[string]types.AttributeValue{
		"id":   &types.AttributeValueMemberS{Value: "abc"},                                                                          // 2 + 3
		"n":    &types.AttributeValueMemberN{Value: "12345"},                                                                        // 1 + 4
		"ok":   &types.AttributeValueMemberBOOL{Value: true},                                                                        // 2 + 1
		"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "xy"}}},              // 4 + 3 + 1 + 2
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}}, // 1 + 3 + 1 + 1 + 1
	}
	if got, want := itemSize(item), 5+5+3+10+7; got != want {
		t.Errorf("itemSize = %d, want %d", got, want)
	}
	if got := units(1025, 1024); got != 2 {
		t.Errorf("units(1025) = %v, want 2", got)
	}
}
