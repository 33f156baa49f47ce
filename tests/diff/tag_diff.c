/* Differential transcript for event2/tag.h: one C99 program, built against
 * real libevent 2.1.12 and against evasio, printing the bytes each encoder
 * writes over a table of values, and for each reader over a table of
 * well-formed, truncated and malformed inputs: its result, the values it
 * gave and the bytes it left in the buffer. Identical transcripts mean the
 * wire format and the consumption on failure are libevent's. */
#include <event2/buffer.h>
#include <event2/tag.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

int evtag_decode_int(ev_uint32_t *pnumber, struct evbuffer *evbuf);
int evtag_decode_int64(ev_uint64_t *pnumber, struct evbuffer *evbuf);
int evtag_encode_tag(struct evbuffer *evbuf, ev_uint32_t tag);

static void dump(const char *what, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b), i;
	unsigned char *p = evbuffer_pullup(b, -1);
	printf("%s [%u]", what, (unsigned)n);
	for (i = 0; i < n; ++i)
		printf(" %02x", p[i]);
	printf("\n");
}

static struct evbuffer *from(const unsigned char *p, size_t n)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, p, n);
	return b;
}

static void encoders(void)
{
	static const ev_uint32_t v32[] = {0, 1, 9, 15, 16, 127, 128, 255, 256,
	    0x1234, 0x12345, 0x7fffffff, 0x80000000u, 0xffffffffu};
	static const ev_uint64_t v64[] = {0, 0xffffffffull, 0x100000000ull,
	    0x0123456789abcdefull, 0xffffffffffffffffull};
	char label[64];
	size_t i;
	for (i = 0; i < sizeof v32 / sizeof v32[0]; ++i) {
		struct evbuffer *b = evbuffer_new();
		evtag_encode_int(b, v32[i]);
		snprintf(label, sizeof label, "int %lu", (unsigned long)v32[i]);
		dump(label, b);
		evbuffer_drain(b, evbuffer_get_length(b));
		printf("tag %lu size %d\n", (unsigned long)v32[i], evtag_encode_tag(b, v32[i]));
		dump("  bytes", b);
		evbuffer_drain(b, evbuffer_get_length(b));
		evtag_marshal_int(b, v32[i] & 0xffff, v32[i]);
		dump("  marshal_int", b);
		evbuffer_free(b);
	}
	for (i = 0; i < sizeof v64 / sizeof v64[0]; ++i) {
		struct evbuffer *b = evbuffer_new();
		evtag_encode_int64(b, v64[i]);
		snprintf(label, sizeof label, "int64 %llu", (unsigned long long)v64[i]);
		dump(label, b);
		evbuffer_drain(b, evbuffer_get_length(b));
		evtag_marshal_int64(b, 3, v64[i]);
		dump("  marshal_int64", b);
		evbuffer_free(b);
	}
	{
		struct evbuffer *b = evbuffer_new(), *d = evbuffer_new();
		struct timeval tv = {1700000000, 999999};
		evtag_marshal_string(b, 200, "str");
		evtag_marshal_timeval(b, 9, &tv);
		evtag_marshal(b, 1, "", 0);
		evbuffer_add(d, "buffer", 6);
		evtag_marshal_buffer(b, 70000, d);
		dump("records", b);
		evbuffer_free(b);
		evbuffer_free(d);
	}
}

struct input {
	const char *name;
	unsigned char bytes[24];
	size_t n;
};

static const struct input inputs[] = {
	{"int record", {0x01, 0x01, 0x05}, 3},
	{"int record, tag 2", {0x02, 0x01, 0x05}, 3},
	{"long int record", {0x01, 0x05, 0x7f, 0xff, 0xff, 0xff, 0xf0}, 7},
	{"int64 in int record", {0x01, 0x06, 0x8f, 0xff, 0xff, 0xff, 0xff, 0xf0}, 8},
	{"length beyond data", {0x01, 0x09, 0x41, 0x42}, 4},
	{"integer longer than its record", {0x01, 0x01, 0x23, 0x21}, 4},
	{"timeval", {0x01, 0x04, 0x10, 0x10, 0x10, 0x20}, 6},
	{"timeval, usec missing", {0x01, 0x02, 0x10, 0x10, 0x01, 0x02}, 6},
	{"string", {0x01, 0x03, 'a', 'b', 'c', 0x01}, 6},
	{"string, wrong tag", {0x07, 0x03, 'a', 'b', 'c'}, 5},
	{"fixed of 3", {0x01, 0x03, 'x', 'y', 'z'}, 5},
	{"unterminated tag", {0x81, 0x82, 0x83}, 3},
	{"33-bit tag", {0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x00}, 7},
	{"max tag", {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, 6},
	{"empty", {0}, 0},
	{"tag only", {0x01}, 1},
	{"two records", {0x01, 0x01, 0x05, 0x02, 0x02, 'h', 'i'}, 7},
};

static void readers(void)
{
	size_t i;
	for (i = 0; i < sizeof inputs / sizeof inputs[0]; ++i) {
		const struct input *in = &inputs[i];
		struct evbuffer *b;
		ev_uint32_t tag = 0, v = 0, len = 0;
		ev_uint64_t v64 = 0;
		struct timeval tv = {0, 0};
		char *s = NULL;
		char fixed[3];
		int r;

		printf("== %s\n", in->name);
		b = from(in->bytes, in->n);
		r = evtag_peek(b, &tag);
		printf("peek %d tag %lu\n", r, (unsigned long)tag);
		r = evtag_peek_length(b, &len);
		printf("peek_length %d len %lu\n", r, (unsigned long)len);
		len = 0;
		r = evtag_payload_length(b, &len);
		printf("payload_length %d len %lu\n", r, (unsigned long)len);
		r = evtag_unmarshal_header(b, &tag);
		printf("unmarshal_header %d tag %lu\n", r, (unsigned long)tag);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		r = evtag_unmarshal_int(b, 1, &v);
		printf("unmarshal_int %d v %lu\n", r, (unsigned long)v);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		r = evtag_unmarshal_int64(b, 1, &v64);
		printf("unmarshal_int64 %d v %llu\n", r, (unsigned long long)v64);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		r = evtag_unmarshal_timeval(b, 1, &tv);
		printf("unmarshal_timeval %d %ld.%06ld\n", r, (long)tv.tv_sec, (long)tv.tv_usec);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		r = evtag_unmarshal_string(b, 1, &s);
		printf("unmarshal_string %d %s\n", r, r == 0 ? s : "-");
		if (r == 0)
			free(s);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		r = evtag_unmarshal_fixed(b, 1, fixed, sizeof fixed);
		printf("unmarshal_fixed %d\n", r);
		dump("  left", b);
		evbuffer_free(b);

		b = from(in->bytes, in->n);
		{
			struct evbuffer *dst = evbuffer_new();
			r = evtag_unmarshal(b, &tag, dst);
			printf("unmarshal %d tag %lu\n", r, (unsigned long)tag);
			dump("  payload", dst);
			evbuffer_free(dst);
		}
		dump("  left", b);
		r = evtag_consume(b);
		printf("consume %d\n", r);
		dump("  left", b);
		r = evtag_decode_int(&v, b);
		printf("decode_int %d v %lu\n", r, (unsigned long)v);
		r = evtag_decode_int64(&v64, b);
		printf("decode_int64 %d v %llu\n", r, (unsigned long long)v64);
		dump("  left", b);
		evbuffer_free(b);
	}
}

int main(void)
{
	encoders();
	readers();
	return 0;
}
