/* The liblo receiver of osc4rs_facade_bench's throughput table (issue #22: "a liblo
 * receiver measured in the same bench run"): a liblo UDP server whose one method
 * counts every message, read with lo_server_recv_noblock in a loop, as a C
 * application using liblo does. Same protocol as the bench's own receivers: prints
 * "READY PORT", then after COUNT messages (or IDLE_MS without one, after the first)
 * "RESULT kind=liblo received=.. lost=.. wall_ns=.. cpu_ns=..", CPU being the
 * process's from before the first receive to the last message.
 *
 *   cc -O2 -o liblo_recv liblo_recv.c -llo      (scripts/bench-facade.sh builds it)
 *   liblo_recv COUNT IDLE_MS
 */
#include <lo/lo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long seen;

static int count_message(const char *path, const char *types, lo_arg **argv, int argc,
                         lo_message msg, void *user_data) {
    (void)path; (void)types; (void)argv; (void)argc; (void)msg; (void)user_data;
    seen++;
    return 0;
}

static long long now_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: liblo_recv COUNT IDLE_MS\n");
        return 2;
    }
    long long count = atoll(argv[1]);
    int idle_ms = atoi(argv[2]);
    lo_server s = lo_server_new_with_proto(NULL, LO_UDP, NULL);
    if (!s) {
        fprintf(stderr, "liblo_recv: cannot open a UDP server\n");
        return 1;
    }
    /* The same receive buffer as the other receivers (osc-channel's default, 4 MiB). */
    int fd = lo_server_get_socket_fd(s);
    int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    lo_server_add_method(s, NULL, NULL, count_message, NULL);
    printf("READY %d\n", lo_server_get_port(s));
    fflush(stdout);
    long long cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    long long first = 0, last = 0, cpu_last = cpu0;
    long long before;
    for (;;) {
        before = seen;
        lo_server_recv_noblock(s, first ? idle_ms : 10000);
        if (seen != before) {
            last = now_ns(CLOCK_MONOTONIC);
            if (!first) first = last;
            cpu_last = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            if (seen >= count) break;
        } else {
            break; /* idle: the sender is done */
        }
    }
    printf("RESULT kind=liblo received=%lld lost=%lld wall_ns=%lld cpu_ns=%lld\n", seen,
           count > seen ? count - seen : 0, last - first, cpu_last - cpu0);
    lo_server_free(s);
    return 0;
}
