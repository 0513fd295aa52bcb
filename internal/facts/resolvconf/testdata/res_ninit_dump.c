/* res_ninit_dump: prints what glibc's res_ninit reads from ROOT/etc/resolv.conf, for the
   differential test of the resolvconf reader (resolvconf_oracle_test.go). Our own code.

   usage: res_ninit_dump ROOT
   It enters a UTS namespace and names the host "resolvtest" (no dot: glibc takes no search
   domain from it), chroots into ROOT (root only), clears LOCALDOMAIN and RES_OPTIONS, calls
   res_ninit and prints one line per name server the resolver keeps ("ns ADDRESS") and per
   search domain of _res ("search NAME"). Linked statically, so the chroot needs no library. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: res_ninit_dump ROOT\n");
    return 2;
  }
  if (unshare(CLONE_NEWUTS) != 0 || sethostname("resolvtest", 10) != 0) {
    perror("res_ninit_dump: hostname");
    return 2;
  }
  if (chroot(argv[1]) != 0 || chdir("/") != 0) {
    perror("res_ninit_dump: chroot");
    return 2;
  }
  unsetenv("LOCALDOMAIN");
  unsetenv("RES_OPTIONS");
  struct __res_state st;
  memset(&st, 0, sizeof st);
  if (res_ninit(&st) != 0) {
    fprintf(stderr, "res_ninit_dump: res_ninit failed\n");
    return 1;
  }
  char buf[INET6_ADDRSTRLEN];
  for (int i = 0; i < st.nscount; i++) {
    if (st.nsaddr_list[i].sin_family == AF_INET) {
      inet_ntop(AF_INET, &st.nsaddr_list[i].sin_addr, buf, sizeof buf);
    } else if (st._u._ext.nsaddrs[i] != NULL && st._u._ext.nsaddrs[i]->sin6_family == AF_INET6) {
      inet_ntop(AF_INET6, &st._u._ext.nsaddrs[i]->sin6_addr, buf, sizeof buf);
    } else {
      strcpy(buf, "?");
    }
    printf("ns %s\n", buf);
  }
  for (int i = 0; i < MAXDNSRCH && st.dnsrch[i] != NULL; i++)
    printf("search %s\n", st.dnsrch[i]);
  res_nclose(&st);
  return 0;
}
