/*
 * corpus_lines.h -- the benches' corpus reader (bench/ab_scan.c, bench/ab_inproc.c): the first `max`
 * lines of a file, one post each, without their newlines. Exits on a failed allocation.
 */
#ifndef MF_BENCH_CORPUS_LINES_H
#define MF_BENCH_CORPUS_LINES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Reads up to max lines of f into *lines (each malloc'd) and *lens; returns how many, and adds
 * their bytes to *bytes. */
static size_t read_corpus_lines(FILE *f, size_t max, char ***lines_out, size_t **lens_out, size_t *bytes) {
    size_t cap = 1024, n = 0;
    char **lines = malloc(cap * sizeof *lines);
    size_t *lens = malloc(cap * sizeof *lens);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    if (!lines || !lens) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    while (n < max && (len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') len--;
        if (n == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
            lens = realloc(lens, cap * sizeof *lens);
            if (!lines || !lens) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
        }
        lines[n] = malloc((size_t)len + 1);
        if (!lines[n]) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        memcpy(lines[n], line, (size_t)len);
        lens[n++] = (size_t)len;
        *bytes += (size_t)len;
    }
    free(line);
    *lines_out = lines;
    *lens_out = lens;
    return n;
}

#endif
