/* Differential transcript for event2/http.h's pure half: one C99 program,
 * built against real libevent 2.1.12 and against evasio, printing every part
 * of each URI of a table as parsed (plain and NONCONFORMANT) and joined back,
 * the setters' verdicts, encodings and decodings (bytes in hex), query
 * strings parsed, header list operations, and the layout of
 * struct evhttp_request. Identical transcripts mean libevent's semantics. */
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* A nullable string, escaped: non-printing bytes as \xNN. */
static const char *q(const char *s)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k = (k + 1) % 4], *p = b;
	if (!s)
		return "NULL";
	*p++ = '"';
	for (; *s && p < b + sizeof buf[0] - 8; ++s) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p++ = '"';
	*p = '\0';
	return b;
}

static const char *const uris[] = {
	"http://www.example.com/", "http://user:pass@host:8080/p/a/t/h?query=1&x=2#frag",
	"HTTP://Host.Example/", "http://host?x#y", "http://a/?q=?/#f?/", "mailto:user@example.com",
	"a:b", "h+t.t-p1://x/", "http:", "http://u%41:@h/", "http://h%41st/%7e", "http://1234",
	"http://!$&'()*+,;=/", "/path?q#f", "", "?", "#", "foo/bar:baz", "//host", "//host/p",
	"./a:b", "1a:b", ":foo", "http://host:/", "http://:80/", "http:///p", "http://@h/",
	"http://u@/", "http://:/", "http://host:0/", "http://host:00080", "http://host:65535/",
	"http://host:65536/", "http://host:99999999999999999999/", "http://host:8x/",
	"http://host:-1/", "http://host:80:80/", "https://[::1]:443/", "http://[2001:db8::1]/x",
	"http://[::ffff:1.2.3.4]", "http://[v1.fe:ab]/", "http://[vAb.x]/", "http://[v1.]/",
	"http://[::1/", "http://[]/", "http://[x]/", "http://[1::2::3]/", "http://[fe80::1%25eth0]/",
	"http://[v.x]/", "http://[vz.x]/", "http://[v1]/", "http://[v1.a b]/", "http://[::1]x/",
	"http://::1/", "http://a b/", "http://u@v@host/", "http://us er@host/", "http://u%4@host/",
	"http://h%4/", "http://host/a b", "http://host/%zz", "http://host/%4", "http://host/a#b#c",
	"http://host/[x]", "http://host/?a|b", "http://host/\xc3\xa9", "http://host/a\\b", "a b",
	"http://host/a?b?c#d e", "http://host/a\r\nb", "http://[0:0:0:0:0:0:0:0000000000000000000000000000000000000000001]/",
	"http://[::1]:/", "s://[::1]:65535?#",
};

static void print_uri(const char *label, const struct evhttp_uri *u)
{
	char buf[256];
	if (!u) {
		out("%s NULL", label);
		return;
	}
	out("%s scheme=%s userinfo=%s host=%s port=%d", label, q(evhttp_uri_get_scheme(u)),
	    q(evhttp_uri_get_userinfo(u)), q(evhttp_uri_get_host(u)), evhttp_uri_get_port(u));
	out("%s path=%s query=%s fragment=%s", label, q(evhttp_uri_get_path(u)),
	    q(evhttp_uri_get_query(u)), q(evhttp_uri_get_fragment(u)));
	out("%s join=%s", label, q(evhttp_uri_join((struct evhttp_uri *)u, buf, sizeof buf)));
}

static void parsing(void)
{
	size_t i;
	begin("evhttp_uri_parse_with_flags");
	for (i = 0; i < N(uris); ++i) {
		struct evhttp_uri *a = evhttp_uri_parse(uris[i]);
		struct evhttp_uri *b = evhttp_uri_parse_with_flags(uris[i], EVHTTP_URI_NONCONFORMANT);
		out("%s", q(uris[i]));
		print_uri(" strict", a);
		print_uri(" nonconformant", b);
		if (a)
			evhttp_uri_free(a);
		if (b)
			evhttp_uri_free(b);
	}
	end();
}

static void setters(void)
{
	static const char *const values[] = {"", "http", "1http", "h+t.t-p", "a b", "user:pa%20ss",
	    "%2", "a@b", "[::1]", "[::1", "ho:st", "h%4", "exa%41mple", "/a b", "/a?b", "/a#b", "a#b",
	    "a?b", "a:b@c/d", "[v1.x]", "\t", "a\r\nb"};
	static const char *const parts[] = {"scheme", "userinfo", "host", "path", "query", "fragment"};
	static const int ports[] = {-3, -2, -1, 0, 1, 65535, 65536, 70000, 2147483647};
	unsigned flags;
	size_t i, j;
	char buf[256];
	begin("evhttp_uri_set_*");
	for (flags = 0; flags < 2; ++flags) {
		for (i = 0; i < N(values); ++i) {
			char line[256];
			char *p = line;
			for (j = 0; j < N(parts); ++j) {
				struct evhttp_uri *u = evhttp_uri_new();
				int r = -9;
				evhttp_uri_set_flags(u, flags);
				switch (j) {
				case 0: r = evhttp_uri_set_scheme(u, values[i]); break;
				case 1: r = evhttp_uri_set_userinfo(u, values[i]); break;
				case 2: r = evhttp_uri_set_host(u, values[i]); break;
				case 3: r = evhttp_uri_set_path(u, values[i]); break;
				case 4: r = evhttp_uri_set_query(u, values[i]); break;
				case 5: r = evhttp_uri_set_fragment(u, values[i]); break;
				}
				p += sprintf(p, " %s=%d", parts[j], r);
				evhttp_uri_free(u);
			}
			out("flags %u %s:%s", flags, q(values[i]), line);
		}
	}
	for (i = 0; i < N(ports); ++i) {
		struct evhttp_uri *u = evhttp_uri_parse("http://h/");
		int r = evhttp_uri_set_port(u, ports[i]);
		out("port %d: %d get=%d join=%s", ports[i], r, evhttp_uri_get_port(u),
		    q(evhttp_uri_join(u, buf, sizeof buf)));
		evhttp_uri_free(u);
	}
	end();
}

static void joining(void)
{
	struct evhttp_uri *u = evhttp_uri_new();
	char buf[64];
	size_t limit;
	begin("evhttp_uri_join");
	out("new: %s", q(evhttp_uri_join(u, buf, sizeof buf)));
	evhttp_uri_set_scheme(u, "s");
	evhttp_uri_set_userinfo(u, "u");
	evhttp_uri_set_port(u, 8);
	evhttp_uri_set_path(u, "p");
	out("no host, relative path: %s", q(evhttp_uri_join(u, buf, sizeof buf)));
	evhttp_uri_set_host(u, "h");
	out("host, relative path: %s", q(evhttp_uri_join(u, buf, sizeof buf)));
	evhttp_uri_set_path(u, "");
	out("host, empty path: %s", q(evhttp_uri_join(u, buf, sizeof buf)));
	evhttp_uri_set_path(u, "/x");
	evhttp_uri_set_query(u, "");
	evhttp_uri_set_fragment(u, "");
	for (limit = 0; limit <= 20; ++limit) {
		strcpy(buf, "untouched");
		out("limit %u: %s buf=%s", (unsigned)limit,
		    evhttp_uri_join(u, buf, limit) ? "buf" : "NULL", q(buf));
	}
	evhttp_uri_free(u);
	end();
}

static void hex(const char *label, const char *p, size_t n)
{
	char line[512];
	char *o = line;
	size_t i;
	for (i = 0; i < n && o < line + sizeof line - 4; ++i)
		o += sprintf(o, "%02x", (unsigned char)p[i]);
	*o = '\0';
	out("%s [%u] %s", label, (unsigned)n, line);
}

static void encoding(void)
{
	static const char *const in[] = {"hello world", "AZaz09-._~", "a+b c", "/?#&=%:@", "\xff\x01\x7f",
	    "", "%41%42", "%zz", "%4", "%", "100%", "%4g", "%%41", "%2b%2B", "a+b?c+d", "%3F+x",
	    "?%20+", "a%00b", "%e2%82%ac", "<a href=\"x\">'&'</a>"};
	size_t i;
	int c;
	char all[256];
	begin("encode and decode");
	for (i = 0; i < N(in); ++i) {
		size_t n = 12345;
		char *p;
		out("%s", q(in[i]));
		p = evhttp_encode_uri(in[i]);
		out(" encode_uri %s", q(p));
		free(p);
		p = evhttp_uriencode(in[i], -1, 1);
		out(" uriencode plus %s", q(p));
		free(p);
		p = evhttp_uridecode(in[i], 0, &n);
		hex(" uridecode", p, n);
		free(p);
		p = evhttp_uridecode(in[i], 1, &n);
		hex(" uridecode plus", p, n);
		free(p);
		p = evhttp_decode_uri(in[i]);
		out(" decode_uri %s", q(p));
		free(p);
		p = evhttp_htmlescape(in[i]);
		out(" htmlescape %s", q(p));
		free(p);
	}
	for (c = 0; c < 256; ++c)
		all[c] = (char)c;
	{
		char *p = evhttp_uriencode(all, 256, 0);
		out("all bytes: %s", p);
		free(p);
		p = evhttp_uriencode(all, 256, 1);
		out("all bytes, plus: %s", p);
		free(p);
		p = evhttp_uriencode("abc", 2, 0);
		out("size 2: %s", q(p));
		free(p);
	}
	end();
}

static void print_list(const char *label, int r, const struct evkeyvalq *h)
{
	char line[512];
	char *o = line;
	const struct evkeyval *e;
	*o = '\0';
	for (e = h->tqh_first; e; e = e->next.tqe_next)
		o += snprintf(o, (size_t)(line + sizeof line - o), " %s=%s", q(e->key), q(e->value));
	out("%s -> %d:%s", label, r, line);
}

static void queries(void)
{
	static const char *const strs[] = {"a=1&b=2", "a=1&b=x+y%21&a=2", "a=&b=", "k%20x=a=b",
	    "c=%zz", "d=%00x", "a=1&", "", "a", "a=1&b", "=1", "a=1&=2", "a=1&&b=2", "&a=1", "&",
	    "a=x%0D%0Ay", "b\r=1", "a=%", "a=+%2B+"};
	static const char *const full[] = {"http://h/p?a=1&b=x+y#f", "/p?x=%41", "http://h/p", "/p?",
	    "/p?a=%zz", "/p?a=1 2", "/p?a", "/p?a=1&b", "1a:b?x=1", "/p?=1", "?a=1", "http://a b/?x=1"};
	size_t i;
	struct evkeyvalq h;
	begin("evhttp_parse_query_str, evhttp_parse_query");
	for (i = 0; i < N(strs); ++i) {
		int r = evhttp_parse_query_str(strs[i], &h);
		print_list(q(strs[i]), r, &h);
		evhttp_clear_headers(&h);
	}
	print_list("NULL", evhttp_parse_query_str(NULL, &h), &h);
	evhttp_clear_headers(&h);
	for (i = 0; i < N(full); ++i) {
		int r = evhttp_parse_query(full[i], &h);
		print_list(q(full[i]), r, &h);
		evhttp_clear_headers(&h);
	}
	end();
}

static void header_lists(void)
{
	static const char *const texts[] = {"v", "", " ", "\t", "a\r\n b", "a\n\tb", "a\r", "a\n",
	    "\r\n", "a\x01\x7f\xff"};
	struct evkeyvalq h;
	size_t i;
	begin("header lists");
	h.tqh_first = NULL;
	h.tqh_last = &h.tqh_first;
	for (i = 0; i < N(texts); ++i)
		out("add key %s: %d value: %d", q(texts[i]), evhttp_add_header(&h, texts[i], "x"),
		    evhttp_add_header(&h, "K", texts[i]));
	print_list("after adds", 0, &h);
	out("find k: %s", q(evhttp_find_header(&h, "k")));
	out("find V: %s", q(evhttp_find_header(&h, "V")));
	out("find missing: %s", q(evhttp_find_header(&h, "missing")));
	out("remove k: %d", evhttp_remove_header(&h, "k"));
	out("remove missing: %d", evhttp_remove_header(&h, "missing"));
	print_list("after removes", 0, &h);
	evhttp_clear_headers(&h);
	out("cleared: first %s last-is-first %s", yn(h.tqh_first == NULL),
	    yn(h.tqh_last == &h.tqh_first));
	out("add after clear: %d", evhttp_add_header(&h, "A", "1"));
	print_list("after clear", 0, &h);
	evhttp_clear_headers(&h);
	end();
}

#define OFF(f) out("%-20s %u", #f, (unsigned)offsetof(struct evhttp_request, f))

static void layout(void)
{
	begin("struct evhttp_request");
	out("sizeof %u", (unsigned)sizeof(struct evhttp_request));
	OFF(next);
	OFF(evcon);
	OFF(flags);
	OFF(input_headers);
	OFF(output_headers);
	OFF(remote_host);
	OFF(remote_port);
	OFF(host_cache);
	OFF(kind);
	OFF(type);
	OFF(headers_size);
	OFF(body_size);
	OFF(uri);
	OFF(uri_elems);
	OFF(major);
	OFF(minor);
	OFF(response_code);
	OFF(response_code_line);
	OFF(input_buffer);
	OFF(ntoread);
	OFF(output_buffer);
	OFF(cb);
	OFF(cb_arg);
	OFF(chunk_cb);
	OFF(header_cb);
	OFF(error_cb);
	OFF(on_complete_cb);
	OFF(on_complete_cb_arg);
	out("flags %d %d %d %d %d", EVHTTP_REQ_OWN_CONNECTION, EVHTTP_PROXY_REQUEST,
	    EVHTTP_USER_OWNED, EVHTTP_REQ_DEFER_FREE, EVHTTP_REQ_NEEDS_FREE);
	out("codes %d %d %d %d %d %d %d %d %d %d %d %d %d", HTTP_OK, HTTP_NOCONTENT, HTTP_MOVEPERM,
	    HTTP_MOVETEMP, HTTP_NOTMODIFIED, HTTP_BADREQUEST, HTTP_NOTFOUND, HTTP_BADMETHOD,
	    HTTP_ENTITYTOOLARGE, HTTP_EXPECTATIONFAILED, HTTP_INTERNAL, HTTP_NOTIMPLEMENTED,
	    HTTP_SERVUNAVAIL);
	out("methods %d %d %d %d %d %d %d %d %d", EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_HEAD,
	    EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE, EVHTTP_REQ_OPTIONS, EVHTTP_REQ_TRACE,
	    EVHTTP_REQ_CONNECT, EVHTTP_REQ_PATCH);
	out("kinds %d %d errors %d %d %d %d %d %d", EVHTTP_REQUEST, EVHTTP_RESPONSE,
	    EVREQ_HTTP_TIMEOUT, EVREQ_HTTP_EOF, EVREQ_HTTP_INVALID_HEADER, EVREQ_HTTP_BUFFER_ERROR,
	    EVREQ_HTTP_REQUEST_CANCEL, EVREQ_HTTP_DATA_TOO_LONG);
	out("flags %d %d %d %d %d %d", EVHTTP_SERVER_LINGERING_CLOSE,
	    EVHTTP_CON_REUSE_CONNECTED_ADDR, EVHTTP_CON_READ_ON_WRITE_ERROR,
	    EVHTTP_CON_LINGERING_CLOSE, EVHTTP_CON_PUBLIC_FLAGS_END, EVHTTP_URI_NONCONFORMANT);
	end();
}

int main(void)
{
	transcript_start();
	parsing();
	setters();
	joining();
	encoding();
	queries();
	header_lists();
	layout();
	return 0;
}
