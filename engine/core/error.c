/*
 * hps_strerror() and hps_err_name(), generated from HPS_ERRNO_MAP in error.h.
 */
#include "hpsweep/error.h"

const char *hps_strerror(int err)
{
    switch (err) {
    case HPS_OK:
        return "success";
#define HPS_ERR_MSG_(name, msg) \
    case HPS_##name:            \
        return msg;
        HPS_ERRNO_MAP(HPS_ERR_MSG_)
#undef HPS_ERR_MSG_
    default:
        return "unknown error";
    }
}

const char *hps_err_name(int err)
{
    switch (err) {
    case HPS_OK:
        return "HPS_OK";
#define HPS_ERR_NAME_(name, msg) \
    case HPS_##name:             \
        return "HPS_" #name;
        HPS_ERRNO_MAP(HPS_ERR_NAME_)
#undef HPS_ERR_NAME_
    default:
        return "HPS_UNKNOWN";
    }
}
