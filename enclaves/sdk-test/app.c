/* sdk-test host: loads enclave.signed.so from the current directory (a
 * path constant, as SDK applications do) with the SDK's uRTS and runs the
 * ecalls named on the command line, printing one line each. */
#include <stdio.h>
#include <string.h>
#include "sgx_urts.h"
#include "enclave_u.h"

#define ENCLAVE_PATH "enclave.signed.so"

int ocall_double(int v) { return 2 * v; }

int main(int argc, char **argv)
{
    sgx_enclave_id_t eid = 0;
    sgx_status_t s = sgx_create_enclave(ENCLAVE_PATH, SGX_DEBUG_FLAG, NULL, NULL, &eid, NULL);
    if (s != SGX_SUCCESS) {
        printf("create 0x%04x\n", (unsigned)s);
        return 1;
    }
    printf("created\n");
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        const char *step = argv[i];
        if (strcmp(step, "add") == 0)
            s = ecall_add(eid, &r, 2, 3);
        else if (strcmp(step, "seal") == 0)
            s = ecall_seal(eid, &r);
        else if (strcmp(step, "report") == 0)
            s = ecall_report(eid, &r);
        else if (strcmp(step, "cpuid") == 0)
            s = ecall_cpuid(eid, &r);
        else if (strcmp(step, "pf") == 0)
            s = ecall_pf(eid);
        else {
            printf("unknown step %s\n", step);
            return 2;
        }
        printf("%s status 0x%04x result %#x\n", step, (unsigned)s, (unsigned)r);
        fflush(stdout);
        bad |= s != SGX_SUCCESS;
    }
    sgx_destroy_enclave(eid);
    return bad;
}
