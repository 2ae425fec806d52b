// Package redisproc runs redis-server and redis-sentinel processes on
// loopback: each on a free port, with a private directory and no
// persistence unless asked. The benchmark harness (`passgw bench`) starts
// its Redis store with it, and internal/redistest builds the tests' servers,
// Sentinel sets and Clusters on it. Do speaks just enough RESP to drive those
// servers independently of the client library the gateway uses.
package redisproc
