package redisproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// commandTimeout bounds one Do, from dialing to the last byte of the reply.
const commandTimeout = 5 * time.Second

// Error is an error reply of the server (RESP "-").
type Error string

func (e Error) Error() string { return "redis: " + string(e) }

// Do sends one command to the Redis server (or sentinel) at addr on a
// connection of its own and returns the reply: a string for a simple or
// bulk string, nil for a nil bulk or array, an int64 for an integer, a []any
// for an array, and an Error for an error reply. It drives the servers
// started here (FLUSHALL, CONFIG SET, CLUSTER ...) independently of the
// client library the gateway uses.
func Do(addr string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, commandTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(commandTimeout))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	reply, err := readReply(bufio.NewReader(c))
	if err != nil {
		return nil, err
	}
	if e, ok := reply.(Error); ok {
		return nil, e
	}
	return reply, nil
}

// Do sends one command to the server; see the package function Do.
func (s *Server) Do(args ...string) (any, error) { return Do(s.Addr, args...) }

// DoString is Do for a command whose reply is a string.
func (s *Server) DoString(args ...string) (string, error) {
	r, err := s.Do(args...)
	if err != nil {
		return "", err
	}
	str, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%s: reply %v is not a string", args[0], r)
	}
	return str, nil
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return Error(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown reply %q", line)
	}
}
