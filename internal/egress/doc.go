// Package egress is the outbound HTTP client for webhook deliveries, built so
// that a URL chosen by a project owner cannot be turned against the network
// the server runs in (server-side request forgery).
//
// It protects against:
//
//   - URLs that name a non-public address: loopback, private (RFC 1918,
//     fc00::/7), link-local (169.254.0.0/16 with the cloud metadata service,
//     fe80::/10), unspecified, multicast, broadcast, shared (100.64.0.0/10),
//     reserved, benchmarking and documentation ranges, and IPv6 forms that
//     carry such an IPv4 address (IPv4-mapped and -compatible, NAT64
//     64:ff9b::/96, 6to4 2002::/16). Public IPv6 is 2000::/3 less its
//     special ranges (Teredo, documentation, benchmarking, ORCHID), and
//     NAT64 and 6to4 addresses whose IPv4 address is public.
//   - Host names that resolve to such addresses, including "localhost" and
//     its subdomains, which are refused without asking DNS.
//   - Numeric hosts that browsers and C resolvers read as IPv4 addresses but
//     net/netip does not ("127.1", "2130706433", "0x7f.1", "0177.0.0.1",
//     "127.0.0.1."): they are refused as malformed, never looked up.
//   - DNS rebinding: CheckURL checks what a name resolves to when a webhook is
//     saved, and Post checks again the address each socket is about to connect
//     to (net.Dialer.Control), after resolution, before connect(2); a refused
//     address is never connected to.
//   - Redirects (never followed: a 3xx is the answer), proxies named in the
//     environment (never used), and receivers that answer slowly or at length
//     (one timeout for the whole exchange, the body read up to a limit,
//     response headers limited, connections per host bounded).
//
// It does not protect against:
//
//   - Anything reachable at a public address: the server's own public
//     address, internal services published on public addresses, or
//     firewalls that let public addresses reach inside. Those are the
//     operator's network policy to settle.
//   - Learning about public hosts: a delivery's error says whether a public
//     host and port answer, so deliveries can be used to probe the internet
//     (as any webhook feature can).
//   - Name lookups themselves: CheckURL asks the resolver about names chosen by
//     users, so a name's DNS server sees that Taskwire asked.
//   - Anything at all when Options.AllowPrivate is set (WEBHOOK_ALLOW_PRIVATE):
//     then every address is allowed; it is meant for tests and intranets.
//
// Host names must be ASCII (internationalized names in their xn-- form).
// Concurrency across deliveries and fairness between receivers are the
// caller's to bound; a Client only bounds connections per host.
package egress
