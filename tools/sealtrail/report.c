/* report: the words of a verification's outcome (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <string.h>
#include "replay_filter.h"
#include "replay_text.h"

const char *report_status_name(enum verify_status st)
{
	return st == VERIFY_OK ? "ok" : st == VERIFY_BROKEN ? "broken" : "error";
}

void report_put_bytes(struct buf *b, const char *s)
{
	struct buf w = { 0 };

	replay_wtf8_from_bytes(&w, s, strlen(s));
	if (w.failed)
		b->failed = true;	/* never a name cut short */
	else
		rtext_escaped(b, w.data ? w.data : "", w.len);
	buf_free(&w);
}

void report_failure_place(struct buf *b, const char *trail, const struct verify_result *r)
{
	report_put_bytes(b, trail);
	if (r->segment[0]) {
		buf_putc(b, '/');
		report_put_bytes(b, r->segment);
	}
	if (r->line)
		buf_printf(b, ":%" PRIu64, r->line);
	if (r->has_sequence)
		buf_printf(b, ": sequence %" PRIu64, r->sequence);
	buf_puts(b, ": ");
	report_put_bytes(b, r->reason);
}

void report_failure_json(struct jw *w, const char *trail, const struct verify_result *r)
{
	const char *file = r->segment[0] ? r->segment : trail;

	jw_object_begin(w);
	jw_key(w, "file");
	jw_bytes(w, file, strlen(file));
	jw_key(w, "line");
	jw_uint(w, r->line);
	jw_key(w, "reason");
	jw_bytes(w, r->reason, strlen(r->reason));
	jw_key(w, "sequence");
	if (r->has_sequence)
		jw_uint(w, r->sequence);
	else
		jw_null(w);
	jw_object_end(w);
}
