/* A consumer that judges nothing: the floor of bench/worker.py's latency part. It reads the input
 * stream through the consumer group with the worker's blocking read (XREADGROUP COUNT N BLOCK 200;
 * not the worker's read-ahead of the next batch, nor its XAUTOCLAIM passes) and writes a fixed
 * verdict per entry through the worker's own acknowledge-and-write Lua script, so that what it
 * measures is Redis, the feeder, the reader and the machine's scheduling, without a scan. On a 2-core virtual machine that floor moves from run to run by several milliseconds at
 * p99: the worker's figure means something only beside this one, measured in the same minutes.
 *
 *   cc -O2 bench/noop_consumer.c -lhiredis -o noop_consumer
 *   noop_consumer HOST PORT SCRIPT.lua BATCH   (stops on SIGTERM)
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: noop_consumer HOST PORT SCRIPT.lua BATCH\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    FILE *f = fopen(argv[3], "r");
    if (!f) { perror(argv[3]); return 2; }
    static char script[16384];
    size_t n = fread(script, 1, sizeof script - 1, f);
    fclose(f);
    script[n] = 0;
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err) { fprintf(stderr, "noop_consumer: cannot connect\n"); return 2; }
    redisReply *r = redisCommand(c, "XGROUP CREATE in g $ MKSTREAM");
    if (r) freeReplyObject(r);  /* (BUSYGROUP when the harness made it) */
    r = redisCommand(c, "SCRIPT LOAD %s", script);
    if (!r || r->type != REDIS_REPLY_STRING) { fprintf(stderr, "noop_consumer: SCRIPT LOAD failed\n"); return 2; }
    char sha[64];
    snprintf(sha, sizeof sha, "%s", r->str);
    freeReplyObject(r);
    int batch = atoi(argv[4]);
    const char **av = malloc(sizeof(char *) * (size_t)(9 + 2 * batch));
    while (!stop) {
        r = redisCommand(c, "XREADGROUP GROUP g noop COUNT %d BLOCK 200 STREAMS in >", batch);
        if (!r) break;
        if (r->type == REDIS_REPLY_ERROR) {  /* (NOGROUP and the like: no retrying in a tight loop) */
            fprintf(stderr, "noop_consumer: %s\n", r->str);
            return 2;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements) {
            redisReply *es = r->element[0]->element[1];
            /* the worker's call: KEYS in, out; ARGV group, maxlen, k, field names, then id and values */
            int ac = 0;
            const char *head[] = {"EVALSHA", sha, "2", "in", "out", "g", "0", "1", "verdict"};
            for (int i = 0; i < 9; ++i) av[ac++] = head[i];
            for (size_t i = 0; i < es->elements; ++i) {
                av[ac++] = es->element[i]->element[0]->str;
                av[ac++] = "{\"action\":\"ALLOW\"}";
            }
            redisReply *w = redisCommandArgv(c, ac, av, NULL);
            if (!w || w->type == REDIS_REPLY_ERROR) {
                fprintf(stderr, "noop_consumer: %s\n", w ? w->str : c->errstr);
                return 2;
            }
            freeReplyObject(w);
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return 0;
}
