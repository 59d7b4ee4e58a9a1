/* The latency part of bench/worker.py, in C: a feeder that adds posts to the input stream at a
 * paced rate and a reader that waits on the output stream, each on its own hiredis connection and
 * thread, so that the harness takes a few per cent of a core where the Python one took most of one
 * (on 2 cores it then measured itself: the queue grew behind the feeder, not the worker).
 *
 *   cc -O2 -pthread bench/latency_feed.c -lhiredis -o latency_feed
 *   latency_feed HOST PORT POSTS.txt RATE N   (POSTS.txt: one post a line, the field "post")
 *
 * Prints "p50_ms p99_ms max_ms achieved_posts_per_s stamped_p50_ms stamped_p99_ms": send -> verdict
 * seen by the reader, and by Redis's own clock (verdict entry id - post entry id, whole ms).
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

typedef struct {
    unsigned long long ms, seq;
} Id;

static Id parse_id(const char *s) {
    Id id = {0, 0};
    char *end;
    id.ms = strtoull(s, &end, 10);
    if (*end == '-') id.seq = strtoull(end + 1, NULL, 10);
    return id;
}

static int cmp_id(Id a, Id b) { return a.ms != b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq != b.seq ? (a.seq < b.seq ? -1 : 1) : 0; }

static const char *host;
static int port;
static long n_posts;
static Id *sent_id;       /* per post, in order of sending (ids increase) */
static double *sent_at;   /* per post */
static double *seen_at;   /* per post, 0 until its verdict is read */
static long *stamp_ms;    /* per post: verdict entry ms - post entry ms */
static long n_sent;

static long find(Id id) { /* binary search over the ids sent (they increase) */
    long lo = 0, hi = n_posts - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        int c = cmp_id(sent_id[mid], id);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* What the reader saw, matched to the posts once all are sent (a verdict may arrive before its
 * XADD's reply has been read by the feeder). */
static Id *rec_in, *rec_out;
static double *rec_at;
static long n_rec;

static void *reader(void *arg) {
    (void)arg;
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) { fprintf(stderr, "latency_feed: reader cannot connect\n"); exit(2); }
    char last[64] = "$";
    while (n_rec < n_posts) {
        redisReply *r = redisCommand(c, "XREAD COUNT 1000 BLOCK 5000 STREAMS out %s", last);
        if (!r) { fprintf(stderr, "latency_feed: reader: %s\n", c->errstr); exit(2); }
        double t = now();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            redisReply *entries = r->element[0]->element[1];
            for (size_t i = 0; i < entries->elements && n_rec < n_posts; ++i) {
                redisReply *e = entries->element[i];
                snprintf(last, sizeof last, "%s", e->element[0]->str);
                redisReply *f = e->element[1];
                for (size_t j = 0; j + 1 < f->elements; j += 2)
                    if (strcmp(f->element[j]->str, "in") == 0) {
                        rec_in[n_rec] = parse_id(f->element[j + 1]->str);
                        rec_out[n_rec] = parse_id(last);
                        rec_at[n_rec++] = t;
                    }
            }
        } else if (r->type == REDIS_REPLY_NIL && __atomic_load_n(&n_sent, __ATOMIC_ACQUIRE) == n_posts) {
            freeReplyObject(r);
            fprintf(stderr, "latency_feed: %ld of %ld verdicts after 5 s of quiet\n", n_rec, n_posts);
            exit(2);
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: latency_feed HOST PORT POSTS.txt RATE N\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    double rate = atof(argv[4]);
    n_posts = atol(argv[5]);
    FILE *f = fopen(argv[3], "r");
    if (!f) { perror(argv[3]); return 2; }
    char **posts = malloc(sizeof(char *) * n_posts);
    size_t *lens = malloc(sizeof(size_t) * n_posts);
    long have = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (have < n_posts && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        if (!len) continue;
        posts[have] = strdup(line);
        lens[have++] = (size_t)len;
    }
    fclose(f);
    if (!have) { fprintf(stderr, "latency_feed: no posts\n"); return 2; }
    for (long i = have; i < n_posts; ++i) posts[i] = posts[i % have], lens[i] = lens[i % have];
    sent_id = calloc(n_posts, sizeof(Id));
    sent_at = calloc(n_posts, sizeof(double));
    seen_at = calloc(n_posts, sizeof(double));
    stamp_ms = calloc(n_posts, sizeof(long));
    rec_in = calloc(n_posts, sizeof(Id));
    rec_out = calloc(n_posts, sizeof(Id));
    rec_at = calloc(n_posts, sizeof(double));

    redisContext *c = redisConnect(host, port);
    if (!c || c->err) { fprintf(stderr, "latency_feed: cannot connect\n"); return 2; }
    pthread_t rd;
    pthread_create(&rd, NULL, reader, NULL);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);  /* the reader is waiting on the output stream */

    /* one small pipeline per millisecond, as the Python feeder sends them */
    long chunk = (long)(rate / 1000);
    if (chunk < 1) chunk = 1;
    double t0 = now();
    for (long i = 0; i < n_posts; i += chunk) {
        double wait = t0 + i / rate - now();
        if (wait > 0) {
            struct timespec w = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
            nanosleep(&w, NULL);
        }
        long m = i + chunk < n_posts ? chunk : n_posts - i;
        for (long k = 0; k < m; ++k) {
            const char *argv2[5] = {"XADD", "in", "*", "post", posts[i + k]};
            size_t lens2[5] = {4, 2, 1, 4, lens[i + k]};
            redisAppendCommandArgv(c, 5, argv2, lens2);
        }
        double t = now();
        for (long k = 0; k < m; ++k) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type != REDIS_REPLY_STRING) {
                fprintf(stderr, "latency_feed: XADD failed\n");
                return 2;
            }
            sent_id[i + k] = parse_id(r->str);
            sent_at[i + k] = t;
            freeReplyObject(r);
        }
        __atomic_store_n(&n_sent, i + m, __ATOMIC_RELEASE);
    }
    double achieved = n_posts / (now() - t0);
    pthread_join(rd, NULL);
    redisFree(c);
    for (long i = 0; i < n_rec; ++i) {
        long k = find(rec_in[i]);
        if (k < 0 || seen_at[k] != 0) { fprintf(stderr, "latency_feed: a verdict for no post sent, or twice\n"); return 2; }
        seen_at[k] = rec_at[i];
        stamp_ms[k] = (long)(rec_out[i].ms - sent_id[k].ms);
    }

    double *lat = malloc(sizeof(double) * n_posts);
    for (long i = 0; i < n_posts; ++i) lat[i] = (seen_at[i] - sent_at[i]) * 1000;
    qsort(lat, n_posts, sizeof(double), cmp_double);
    qsort(stamp_ms, n_posts, sizeof(long), cmp_long);
    long p50 = n_posts / 2, p99 = (long)(n_posts * 0.99);
    if (p99 >= n_posts) p99 = n_posts - 1;
    printf("%.3f %.3f %.3f %.0f %ld %ld\n", lat[p50], lat[p99], lat[n_posts - 1], achieved, stamp_ms[p50], stamp_ms[p99]);
    return 0;
}
