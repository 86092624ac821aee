// Package batch is the batch workflow's task code: create, submit, poll, look up, download,
// process and turn into leads. It declares the ports (stores, blobs, budget) it needs and
// knows nothing of AWS or SQLite.
package batch
