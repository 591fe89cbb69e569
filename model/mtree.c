/* qemu's memory map as `info mtree` prints it (issue 28): the regions of address-space
 * "memory", so that run --profile counts MMIO by the device it hits ("fed00000-fed003ff hpet")
 * rather than by page. Lines look like
 *     00000000fed00000-00000000fed003ff (prio 0, i/o): hpet
 *     00000000000a0000-00000000000bffff (prio 1, i/o): alias smram-region @pci 00000000000a0000-...
 * indented by depth, children printed at their absolute addresses; the section ends at a blank
 * line. Another address space sharing the tree ("cpu-memory-0") is printed as a header line
 * alone just before it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"
#include "coldmark/profile.h"

/* One region line into r (name allocated); false when the line is not one. */
static bool region_line(const char *line, size_t len, struct cm_mtree_region *r)
{
	char buf[512];
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = 0;
	unsigned long long lo, hi;
	int name_at = -1;
	if (sscanf(buf, " %llx-%llx (prio %*d, %*[^)]): %n", &lo, &hi, &name_at) != 2 ||
	    name_at < 0 || hi < lo)
		return false;
	char *name = buf + name_at;
	name[strcspn(name, "\r")] = 0;
	if (!strncmp(name, "alias ", 6)) /* "alias smram-region @pci ...": its own name */
		name += 6;
	name[strcspn(name, " @")] = 0;
	if (!*name)
		return false;
	*r = (struct cm_mtree_region){ lo, hi, cm_xstrdup(name) };
	return true;
}

int cm_mtree_parse(const char *text, struct cm_mtree *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	bool in = false;
	for (const char *s = text; s && *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		bool blank = strspn(s, " \t\r") >= len;
		const char *hdr = strstr(s, "address-space: ");
		if (hdr && hdr < s + len) {
			const char *nm = hdr + 15;
			size_t l = (size_t)(s + len - nm);
			while (l && (nm[l - 1] == '\r' || nm[l - 1] == ' '))
				l--;
			if (in && out->n) /* the next address space: memory's tree is done */
				break;
			in = l == 6 && !strncmp(nm, "memory", 6);
		} else if (blank) {
			if (in && out->n)
				break;
		} else if (in) {
			struct cm_mtree_region r;
			if (region_line(s, len, &r)) {
				CM_PUSH(out->v, out->n, cap);
				out->v[out->n++] = r;
			}
		}
		s = nl ? nl + 1 : NULL;
	}
	return out->n ? 0 : -1;
}

const struct cm_mtree_region *cm_mtree_find(const struct cm_mtree *t, uint64_t addr)
{
	const struct cm_mtree_region *best = NULL;
	for (size_t i = 0; t && i < t->n; i++) {
		const struct cm_mtree_region *r = &t->v[i];
		if (r->lo == 0 && r->hi == UINT64_MAX) /* "system", "pci": say nothing of a device */
			continue;
		if (addr >= r->lo && addr <= r->hi && (!best || r->hi - r->lo < best->hi - best->lo))
			best = r;
	}
	return best;
}

void cm_mtree_free(struct cm_mtree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
