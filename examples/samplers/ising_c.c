/* A registered external sampler for rgsweep in C: the nearest-neighbour Ising model on a
 * periodic L x L (or L^3) lattice, checkerboard Metropolis, with xoshiro256** seeded from the
 * request's seed by splitmix64 -- the same protocol as ising_numpy.py:
 *
 *   stdin:  {"sampler":..,"parameters":{"T":..,"thermalize":..,"interval":..},"size":L,
 *            "dim":d,"replica":r,"count":n,"seed":s,"output_dir":"..."}
 *   writes: output_dir/configurations.npy (n x L^d int8, +-1) and output_dir/energy.npy
 *           (n int64, E = -sum over bonds of s_i s_j)
 *
 * Build:    cc -O2 -o ising_c examples/samplers/ising_c.c -lm
 * Register: rgsweep worker --sampler ising-c=./ising_c
 *
 * The request is read with a few string searches, which is enough for the flat object the
 * worker writes (its keys are unique and its directory names carry no quotes). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state[4];

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(void) {
    uint64_t result = rotl(state[1] * 5, 7) * 9, t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

static double uniform(void) { return (next() >> 11) * 0x1.0p-53; }

/* The number after "key": in text (0 if absent). */
static double number(const char *text, const char *key, double otherwise) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(text, pattern);
    return at ? strtod(at + strlen(pattern), NULL) : otherwise;
}

static void npy_header(FILE *f, const char *descr, const char *shape) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    int pad = (64 - (10 + n + 1) % 64) % 64;
    uint16_t len = (uint16_t)(n + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fwrite(&len, 2, 1, f); /* little-endian on every machine rgsweep runs on */
    fwrite(dict, 1, n, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts("ising_c 1");
        return 0;
    }
    static char text[1 << 16];
    size_t got = fread(text, 1, sizeof text - 1, stdin);
    text[got] = 0;
    double temperature = number(text, "T", 0);
    long thermalize = (long)number(text, "thermalize", 1000), interval = (long)number(text, "interval", 1);
    long side = (long)number(text, "size", 0), dim = (long)number(text, "dim", 2), count = (long)number(text, "count", 0);
    const char *seed_at = strstr(text, "\"seed\":");
    uint64_t seed = seed_at ? strtoull(seed_at + 7, NULL, 10) : 0;
    const char *dir_at = strstr(text, "\"output_dir\":\"");
    if (temperature <= 0 || side < 2 || side % 2 || (dim != 2 && dim != 3) || count < 1 || !dir_at) {
        fprintf(stderr, "ising_c: need T > 0, an even size, dim 2 or 3, count and output_dir\n");
        return 2;
    }
    char dir[4096];
    dir_at += 14;
    size_t dlen = strcspn(dir_at, "\"");
    if (dlen >= sizeof dir - 32) return 2;
    memcpy(dir, dir_at, dlen);
    dir[dlen] = 0;
    for (int i = 0; i < 4; i++) state[i] = splitmix(&seed);

    long sites = side * side * (dim == 3 ? side : 1);
    signed char *s = malloc(sites);
    long (*nb)[6] = malloc(sizeof *nb * sites);
    int *parity = malloc(sizeof *parity * sites);
    for (long i = 0; i < sites; i++) {
        long x = i % side, y = (i / side) % side, z = i / (side * side);
        long c[3] = {x, y, z};
        parity[i] = (int)((x + y + z) % 2);
        for (int a = 0; a < dim; a++)
            for (int d = 0; d < 2; d++) {
                long k[3] = {x, y, z};
                k[a] = (c[a] + (d ? 1 : side - 1)) % side;
                nb[i][2 * a + d] = k[0] + side * (k[1] + side * k[2]);
            }
        s[i] = (next() >> 63) ? 1 : -1;
    }
    double accept[13]; /* exp(-2 s h / T) for s h = -6..6 */
    for (int k = 0; k <= 12; k++) accept[k] = exp(-2.0 * (k - 6) / temperature);
    signed char *configs = malloc((size_t)count * sites);
    int64_t *energy = malloc(sizeof *energy * count);
    long sweeps = thermalize + count * interval;
    for (long t = 0, kept = 0; t < sweeps; t++) {
        for (int p = 0; p < 2; p++)
            for (long i = 0; i < sites; i++) {
                if (parity[i] != p) continue;
                int h = 0;
                for (int a = 0; a < 2 * dim; a++) h += s[nb[i][a]];
                if (uniform() < accept[s[i] * h + 6]) s[i] = (signed char)-s[i];
            }
        if (t + 1 > thermalize && (t + 1 - thermalize) % interval == 0) {
            int64_t e = 0;
            for (long i = 0; i < sites; i++)
                for (int a = 0; a < dim; a++) e -= s[i] * s[nb[i][2 * a + 1]];
            memcpy(configs + kept * sites, s, sites);
            energy[kept++] = e;
        }
    }
    char path[4200], shape[128];
    snprintf(path, sizeof path, "%s/configurations.npy", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 3;
    if (dim == 2) snprintf(shape, sizeof shape, "(%ld, %ld, %ld)", count, side, side);
    else snprintf(shape, sizeof shape, "(%ld, %ld, %ld, %ld)", count, side, side, side);
    npy_header(f, "|i1", shape);
    fwrite(configs, 1, (size_t)count * sites, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/energy.npy", dir);
    f = fopen(path, "wb");
    if (!f) return 3;
    snprintf(shape, sizeof shape, "(%ld,)", count);
    npy_header(f, "<i8", shape);
    fwrite(energy, sizeof *energy, count, f);
    fclose(f);
    return 0;
}
