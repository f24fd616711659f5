package egress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 64 << 10
)

const (
	// maxURLLength bounds what CheckURL accepts; webhook URLs are short.
	maxURLLength = 2048
	// maxConnsPerHost bounds the connections to one receiver (host and
	// port), dialling, active and idle together; a request beyond it waits
	// for a connection within its timeout.
	maxConnsPerHost = 8
	// maxHeaderBytes bounds the response headers read.
	maxHeaderBytes = 64 << 10
)

// The messages of Error; they are shown to users.
const (
	msgInvalid     = "URL is not valid"
	msgTooLong     = "URL is too long (at most 2048 characters)"
	msgScheme      = "URL must use http or https"
	msgNoHost      = "URL must have a host"
	msgUserinfo    = "URL must not contain a user name or password"
	msgPort        = "URL port is not valid"
	msgHost        = "URL host is not a valid host name or IP address"
	msgNonPublic   = "URL must not point to a loopback, private, link-local or otherwise non-public address"
	msgUnresolved  = "URL host could not be resolved"
	msgNoAddresses = "URL host has no addresses"
)

// Error is a refusal: the URL is malformed or not allowed, or the address it
// leads to is not public. Message is one of a fixed set of sentences safe to
// show to the user (as a 422 when a webhook is saved); Err, when set, is the
// cause for logs: the DNS error, or the address refused (which the user
// should not be shown: it tells what an internal name resolves to).
type Error struct {
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Options configure a Client. The zero value is the safe default.
type Options struct {
	AllowPrivate bool          // WEBHOOK_ALLOW_PRIVATE: permit non-public addresses (tests, intranets)
	Timeout      time.Duration // whole request including reading the body; default 10s
	MaxBody      int64         // response body bytes read at most; default 64 KiB
	Resolver     *net.Resolver // nil: net.DefaultResolver (tests may inject one pointing at a local DNS server)
}

// Client sends webhook deliveries. It is safe for concurrent use; Close
// releases its idle connections.
type Client struct {
	opts      Options // defaults applied
	resolver  *net.Resolver
	transport *http.Transport
	http      *http.Client
}

// New returns a Client for o; zero or negative Timeout and MaxBody take
// their defaults.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	c := &Client{opts: o, resolver: o.Resolver}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	dialer := &net.Dialer{
		Timeout:   o.Timeout,
		KeepAlive: 30 * time.Second,
		Resolver:  o.Resolver,
		Control:   c.control,
	}
	c.transport = &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    maxConnsPerHost,
		MaxConnsPerHost:        maxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    o.Timeout,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // the body is stored as received
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	c.http = &http.Client{
		Transport: c.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is the answer
		},
	}
	return c
}

// Close closes the Client's idle connections. Requests in flight are not
// interrupted, and the Client stays usable.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// CheckURL validates a URL when a webhook is saved: http or https only, a
// host, no userinfo, a valid port, and (unless AllowPrivate) every address
// the host resolves to is public. Hosts that are numeric but not a canonical
// IPv4 address ("127.1", "0x7f.1") are refused whatever AllowPrivate says.
// With AllowPrivate the host is not resolved. The lookup is bounded by
// Options.Timeout. Errors are *Error.
func (c *Client) CheckURL(ctx context.Context, raw string) error {
	_, host, literal, err := c.parse(raw)
	if err != nil || literal || c.opts.AllowPrivate {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return &Error{Message: msgUnresolved, Err: err}
	}
	if len(addrs) == 0 {
		return &Error{Message: msgNoAddresses}
	}
	for _, a := range addrs {
		if !public(a) {
			return nonPublic(a)
		}
	}
	return nil
}

// nonPublic is the refusal of address a; a is in Err, for logs.
func nonPublic(a netip.Addr) *Error {
	return &Error{Message: msgNonPublic, Err: fmt.Errorf("%s is not a public address", a)}
}

// parse applies the checks that need no lookup. It returns the URL, its
// host without brackets, and whether the host is an IP address.
func (c *Client) parse(raw string) (*url.URL, string, bool, error) {
	if len(raw) > maxURLLength {
		return nil, "", false, &Error{Message: msgTooLong}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", false, &Error{Message: msgInvalid}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", false, &Error{Message: msgScheme}
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, "", false, &Error{Message: msgNoHost}
	}
	if u.User != nil {
		return nil, "", false, &Error{Message: msgUserinfo}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, "", false, &Error{Message: msgPort}
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, "", false, &Error{Message: msgPort}
	}
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return nil, "", false, &Error{Message: msgHost}
		}
		if !c.opts.AllowPrivate && !public(a) {
			return nil, "", false, nonPublic(a)
		}
		return u, host, true, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() { // IPv6 needs brackets
			return nil, "", false, &Error{Message: msgHost}
		}
		if !c.opts.AllowPrivate && !public(a) {
			return nil, "", false, nonPublic(a)
		}
		return u, host, true, nil
	}
	if endsInNumber(host) || !validName(host) {
		return nil, "", false, &Error{Message: msgHost}
	}
	if !c.opts.AllowPrivate && isLocalhost(host) {
		return nil, "", false, &Error{Message: msgNonPublic}
	}
	return u, host, false, nil
}

// control runs for every socket the Client dials, after name resolution
// and before connect: it refuses any address that is not public unless
// AllowPrivate. This is what makes DNS rebinding useless.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	if c.opts.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Message: msgNonPublic, Err: err}
	}
	if !public(ap.Addr()) {
		return nonPublic(ap.Addr())
	}
	return nil
}

// Response is a receiver's answer. Body holds at most Options.MaxBody bytes
// of it.
type Response struct {
	Status   int
	Body     []byte
	Duration time.Duration
}

// Post sends body with the headers to rawURL. It never follows redirects (a
// 3xx is returned as the response), reads at most MaxBody of the answer,
// and refuses at connect time (net.Dialer.Control on the actual IP dialled)
// any non-public address unless AllowPrivate, so DNS rebinding between
// CheckURL and Post gets nowhere. Options.Timeout bounds the whole exchange,
// reading the body included.
//
// A URL CheckURL refuses without a lookup, or an address refused at
// connect, is an *Error and nothing was sent. Running out of time is an
// error that wraps context.DeadlineExceeded; the caller's ctx ending is its
// error; other failures are the network's errors (without the URL, which
// the caller knows). When the failure came after the status line, the
// Response has Status and the body read so far.
func (c *Client) Post(ctx context.Context, rawURL string, header http.Header, body []byte) (Response, error) {
	u, _, _, err := c.parse(rawURL)
	if err != nil {
		return Response{}, err
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Response{}, &Error{Message: msgInvalid, Err: err}
	}
	if header != nil {
		req.Header = header.Clone()
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{Duration: time.Since(start)}, c.failure(parent, ctx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBody))
	r := Response{Status: resp.StatusCode, Body: b, Duration: time.Since(start)}
	if err != nil {
		return r, c.failure(parent, ctx, err)
	}
	return r, nil
}

// failure turns the error of an exchange into the one Post returns.
func (c *Client) failure(parent, ctx context.Context, err error) error {
	var refused *Error
	switch {
	case errors.As(err, &refused):
		return refused
	case parent.Err() != nil:
		return parent.Err()
	case ctx.Err() != nil:
		return fmt.Errorf("no complete answer within %s: %w", c.opts.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
