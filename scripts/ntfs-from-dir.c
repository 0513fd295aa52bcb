/*
 * ntfs-from-dir: copies a host directory into a freshly made NTFS image through libntfs-3g,
 * without mounting anything (ntfscp copies files but cannot make directories).
 *
 *   ntfs-from-dir IMAGE DIR
 *
 * Regular files and directories are copied. A host symlink becomes an NTFS reparse point the way
 * Windows makes them: an absolute target ("/Users") becomes a junction to "\??\C:\Users" on a
 * directory, a relative one ("../x") a symbolic link with the relative flag. The files of a
 * file named fragmented-* is written 4 KiB at a time with a spacer file allocated between the
 * pieces (the spacers are deleted afterwards): a file with enough runs no longer fits its MFT
 * record and gets an attribute list with extension records, as heavily fragmented files on
 * Windows do. The files made in a directory named compressed-* are NTFS-compressed (LZNT1),
 * as in a folder Explorer compresses. Fragmented files must be in a directory right under the root: deeper, libntfs-3g
 * 2022.10 refuses to delete the spacers (EBUSY). Built by
 * scripts/mkfs-from-dir.sh ntfs; used only to make test fixtures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/reparse.h>

static void die(const char *what, const char *path) {
	fprintf(stderr, "ntfs-from-dir: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

/* put16 appends a little-endian UTF-16 copy of the UTF-8 s (with / turned into \) to buf at
 * *off and returns its length in bytes. */
static size_t put16(char *buf, size_t *off, const char *s) {
	ntfschar *u = NULL;
	int n = ntfs_mbstoucs(s, &u);
	if (n < 0)
		die("cannot convert link target", s);
	for (int i = 0; i < n; i++) {
		uint16_t c = le16_to_cpu(u[i]);
		if (c == '/')
			c = '\\';
		memcpy(buf + *off, &c, 2);
		*off += 2;
	}
	free(u);
	return 2 * (size_t)n;
}

/* reparse builds IO_REPARSE_TAG_MOUNT_POINT (junction) or IO_REPARSE_TAG_SYMLINK data. */
static size_t reparse(char *buf, const char *target) {
	int junction = target[0] == '/';
	char subst[2080], print[2080];
	if (junction) {
		snprintf(subst, sizeof subst, "\\??\\C:%s", target);
		snprintf(print, sizeof print, "C:%s", target);
	} else {
		snprintf(subst, sizeof subst, "%s", target);
		snprintf(print, sizeof print, "%s", target);
	}
	size_t hdr = junction ? 16 : 20, off = hdr;
	memset(buf, 0, 16384);
	uint32_t tag = junction ? 0xA0000003u : 0xA000000Cu;
	memcpy(buf, &tag, 4);
	size_t sl = put16(buf, &off, subst);
	if (junction)
		off += 2; /* junctions NUL-terminate both names */
	size_t pl = put16(buf, &off, print);
	if (junction)
		off += 2;
	/* offsets are relative to the path buffer, which starts after the 8-byte reparse header and
	 * the 8 (junction) or 12 (symlink, with its flags word) bytes of name offsets */
	uint16_t so = 0, sn = sl, po = sl + (junction ? 2 : 0), pn = pl;
	memcpy(buf + 8, &so, 2);
	memcpy(buf + 10, &sn, 2);
	memcpy(buf + 12, &po, 2);
	memcpy(buf + 14, &pn, 2);
	if (!junction) {
		uint32_t flags = 1; /* SYMLINK_FLAG_RELATIVE */
		memcpy(buf + 16, &flags, 4);
	}
	uint16_t len = off - 8;
	memcpy(buf + 4, &len, 2);
	return off;
}

static void copy(ntfs_volume *vol, ntfs_inode *dir_ni, const char *host);

static ntfs_inode *create(ntfs_inode *dir_ni, const char *name, mode_t type, const char *host) {
	ntfschar *uname = NULL;
	int ulen = ntfs_mbstoucs(name, &uname);
	if (ulen < 0)
		die("cannot convert name", host);
	ntfs_inode *ni = ntfs_create(dir_ni, const_cpu_to_le32(0), uname, ulen, type);
	free(uname);
	if (!ni)
		die("cannot create", host);
	return ni;
}

static int spacers; /* spacer files made so far, for unique names */

/* copy_file writes a host file into ni and closes ni. With fragment, it writes a piece (4 KiB or a
 * cluster, whichever is larger) at a time with a one-piece spacer file allocated after each
 * piece, then deletes the spacers: every run of the file is one piece long. */
static void copy_file(ntfs_volume *vol, ntfs_inode *dir_ni, ntfs_inode *ni, const char *host, int fragment) {
	int fd = open(host, O_RDONLY);
	if (fd < 0)
		die("cannot open", host);
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na)
		die("cannot open $DATA for", host);
	static char buf[1 << 21];
	size_t piece = sizeof buf;
	if (fragment)
		piece = vol->cluster_size > 4096 ? vol->cluster_size : 4096;
	if (piece > sizeof buf)
		die("cluster too large for", host);
	int first = spacers;
	static ntfs_inode *open_spacers[1 << 16];
	for (s64 pos = 0;; pos += piece) {
		ssize_t got = pread(fd, buf, piece, pos);
		if (got < 0)
			die("cannot read", host);
		if (got == 0)
			break;
		if (ntfs_attr_pwrite(na, pos, got, buf) != got)
			die("cannot write", host);
		if (!fragment)
			continue;
		char name[64];
		snprintf(name, sizeof name, "spacer-%d", spacers++);
		ntfs_inode *sp = create(dir_ni, name, S_IFREG, host);
		ntfs_attr *sa = ntfs_attr_open(sp, AT_DATA, AT_UNNAMED, 0);
		if (!sa || ntfs_attr_pwrite(sa, 0, piece, buf) != (s64)piece)
			die("cannot write a spacer next to", host);
		ntfs_attr_close(sa);
		if (spacers - first > (int)(sizeof open_spacers / sizeof open_spacers[0]))
			die("too many pieces in", host);
		/* kept open: deleting through a second handle fails with EBUSY */
		open_spacers[spacers - 1 - first] = sp;
	}
	ntfs_attr_close(na);
	ntfs_inode_close(ni); /* an open inode makes deleting its neighbours fail with EBUSY */
	close(fd);
	for (int i = first; i < spacers; i++) {
		char name[64];
		snprintf(name, sizeof name, "spacer-%d", i);
		ntfschar *uname = NULL;
		int ulen = ntfs_mbstoucs(name, &uname);
		ntfs_inode *sp = open_spacers[i - first];
		if (ulen < 0 || ntfs_delete(vol, name, sp, dir_ni, uname, ulen))
			die("cannot delete a spacer next to", host);
		free(uname);
	}
}

static void copy(ntfs_volume *vol, ntfs_inode *dir_ni, const char *host) {
	DIR *d = opendir(host);
	if (!d)
		die("cannot list", host);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", host, e->d_name);
		struct stat st;
		if (lstat(path, &st))
			die("cannot stat", path);
		if (S_ISDIR(st.st_mode)) {
			ntfs_inode *ni = create(dir_ni, e->d_name, S_IFDIR, path);
			if (!strncmp(e->d_name, "compressed-", 11)) {
				/* as "compress contents" in Explorer: files made inside are NTFS-compressed */
				ni->flags |= FILE_ATTR_COMPRESSED;
				NInoSetDirty(ni);
			}
			copy(vol, ni, path);
			ntfs_inode_close(ni);
		} else if (S_ISREG(st.st_mode)) {
			copy_file(vol, dir_ni, create(dir_ni, e->d_name, S_IFREG, path), path,
				  !strncmp(e->d_name, "fragmented-", 11));
		} else if (S_ISLNK(st.st_mode)) {
			char target[2048];
			ssize_t n = readlink(path, target, sizeof target - 1);
			if (n < 0)
				die("cannot read link", path);
			target[n] = 0;
			ntfs_inode *ni = create(dir_ni, e->d_name, target[0] == '/' ? S_IFDIR : S_IFREG, path);
			char data[16384];
			size_t len = reparse(data, target);
			if (ntfs_set_ntfs_reparse_data(ni, data, len, 0))
				die("cannot set reparse data on", path);
			ntfs_inode_close(ni);
		}
	}
	closedir(d);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: ntfs-from-dir IMAGE DIR\n");
		return 2;
	}
	ntfs_volume *vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
	if (!vol)
		die("cannot open NTFS image", argv[1]);
	NVolSetCompression(vol);
	ntfs_inode *root = ntfs_inode_open(vol, FILE_root);
	if (!root)
		die("cannot open the root directory of", argv[1]);
	copy(vol, root, argv[2]);
	ntfs_inode_close(root);
	if (ntfs_umount(vol, FALSE))
		die("cannot close", argv[1]);
	return 0;
}
