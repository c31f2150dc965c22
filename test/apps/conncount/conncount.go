// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package conncount wraps a net.Listener to count the connections a
// server holds open, so tests can check that a load step used as many
// connections as it was asked to, and left none open behind it.
package conncount

import (
	"net"
	"sync"
)

// Listener counts the connections it accepted that are still open, the
// most that were open at once, and all it accepted.
type Listener struct {
	net.Listener

	mu                  sync.Mutex
	open, peak, accepts int
}

// Wrap counts the connections ln accepts from now on.
func Wrap(ln net.Listener) *Listener {
	return &Listener{Listener: ln}
}

// Accept counts the new connection as open until the server closes it.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.accepts++
	l.peak = max(l.peak, l.open)
	l.mu.Unlock()
	return &conn{Conn: c, l: l}, nil
}

// Open is how many accepted connections are open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Peak is the most connections that were open at once.
func (l *Listener) Peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

// Accepted is how many connections were accepted in all.
func (l *Listener) Accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepts
}

// Reset forgets the peak and the accepted count, keeping the open count.
func (l *Listener) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.peak, l.accepts = l.open, 0
}

type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

// Close counts the connection closed once, however often it is called.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
