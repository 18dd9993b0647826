/*
 * The search space: named parameters and the map between the unit hypercube and
 * parameter values.
 *
 * Every strategy works in [0,1]^d, one coordinate per parameter. The space maps a
 * unit point to values (decode) and values back to a unit point (encode):
 *   float        low + u*(high-low), or exp-interpolated when log
 *   int          the same, then rounded; every integer in [low,high] owns an equal
 *                slice of [0,1] (so the ends are not half as likely)
 *   categorical  choice index floor(u*k), clamped to k-1
 *   bool         0 (false) for u < 0.5, else 1 (true)
 * A value is always a double: the number for float/int, the choice index for
 * categorical, 0/1 for bool. encode() returns the centre of the value's slice for
 * discrete types so that decode(encode(v)) == v.
 */
#ifndef HPSWEEP_SPACE_H
#define HPSWEEP_SPACE_H

#include <stddef.h>

typedef enum hps_param_type {
    HPS_PARAM_FLOAT = 0,
    HPS_PARAM_INT = 1,
    HPS_PARAM_CATEGORICAL = 2,
    HPS_PARAM_BOOL = 3
} hps_param_type;

/* What a categorical choice was written as in the config. */
typedef enum hps_choice_kind {
    HPS_CHOICE_STRING = 0,
    HPS_CHOICE_NUMBER = 1,
    HPS_CHOICE_BOOL = 2
} hps_choice_kind;

typedef struct hps_choice {
    hps_choice_kind kind; /* public */
    char *text;           /* public: canonical text ("adam", "0.1", "true"); owned */
    double number;        /* public: the value for NUMBER, 0/1 for BOOL, else 0 */
} hps_choice;

typedef struct hps_param {
    char *name;           /* public; owned */
    hps_param_type type;  /* public */
    double low, high;     /* public: bounds for float/int (inclusive) */
    int log;              /* public: 1 if sampled on a log scale */
    int n_choices;        /* public: categorical only */
    hps_choice *choices;  /* public: categorical only; owned */
    int grid_points;      /* public: grid strategy point count for float/int (0: default) */
} hps_param;

typedef struct hps_space {
    int n_params;         /* public */
    hps_param *params;    /* public; owned */
} hps_space;

/* Map a unit point u[n_params] to values[n_params]. u outside [0,1] is clamped. */
void hps_space_decode(const hps_space *space, const double *u, double *values);

/* Map values[n_params] to a unit point u[n_params] (slice centres for discrete types). */
void hps_space_encode(const hps_space *space, const double *values, double *u);

/* Number of distinct values of parameter i (0 for a continuous float). */
long hps_space_cardinality(const hps_space *space, int i);

/*
 * Write parameter i's value as text into buf (size len): a float with 17
 * significant digits (round-trips), an int without decimals, a categorical as its
 * choice's text, a bool as "true"/"false". Returns the length snprintf would write.
 */
int hps_space_format(const hps_space *space, int i, double value, char *buf, size_t len);

/*
 * Parameter i's value as text, whatever its length: a categorical's choice text
 * itself (owned by the space), anything else formatted by hps_space_format into
 * buf. The text a trial's command line, environment and exports show.
 */
const char *hps_space_value_text(const hps_space *space, int i, double value, char *buf,
                                 size_t len);

/* "float", "int", "categorical" or "bool" as a config writes the type; "unknown"
 * for a value outside the enum. */
const char *hps_space_type_name(hps_param_type type);

/* Index of the parameter called name, or -1. */
int hps_space_find(const hps_space *space, const char *name);

/* Deep copy src into dst (dst is overwritten). Returns HPS_OK or HPS_ENOMEM. */
int hps_space_copy(hps_space *dst, const hps_space *src);

/* Free everything the space owns and zero it; NULL-safe. */
void hps_space_free(hps_space *space);

#endif
