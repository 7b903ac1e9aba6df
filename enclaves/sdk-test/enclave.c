/* sdk-test enclave: one behaviour per ecall, each with a result the host
 * prints and sgxdbg's integration tests check (cmd/sgxdbg/sdk_test.go). */
#include <string.h>
#include "sgx_trts.h"
#include "sgx_trts_exception.h"
#include "sgx_tseal.h"
#include "sgx_utils.h"
#include "enclave_t.h"

int ecall_add(int a, int b)
{
    int twice = 0;
    if (ocall_double(&twice, a) != SGX_SUCCESS)
        return -1;
    return twice + b;
}

static const char secret[] = "sgxdbg sealed secret";

int ecall_seal(void)
{
    uint8_t sealed[1024];
    uint32_t n = sgx_calc_sealed_data_size(0, sizeof secret);
    if (n == UINT32_MAX || n > sizeof sealed)
        return 1 << 16;
    sgx_status_t s = sgx_seal_data(0, NULL, sizeof secret, (const uint8_t *)secret, n, (sgx_sealed_data_t *)sealed);
    if (s != SGX_SUCCESS)
        return 2 << 16 | (int)s;
    char out[sizeof secret];
    uint32_t outn = sizeof out;
    s = sgx_unseal_data((const sgx_sealed_data_t *)sealed, NULL, NULL, (uint8_t *)out, &outn);
    if (s != SGX_SUCCESS)
        return 3 << 16 | (int)s;
    if (outn != sizeof secret || memcmp(out, secret, outn) != 0)
        return 4 << 16;
    return 0;
}

int ecall_report(void)
{
    sgx_target_info_t ti;
    sgx_report_data_t data;
    sgx_report_t rep;
    memset(&data, 0, sizeof data);
    memcpy(data.d, "sgxdbg", 6);
    sgx_status_t s = sgx_self_target(&ti);
    if (s != SGX_SUCCESS)
        return 1 << 16 | (int)s;
    s = sgx_create_report(&ti, &data, &rep);
    if (s != SGX_SUCCESS)
        return 2 << 16 | (int)s;
    if (memcmp(rep.body.report_data.d, data.d, sizeof data.d) != 0)
        return 3 << 16;
    s = sgx_verify_report(&rep);
    if (s != SGX_SUCCESS)
        return 4 << 16 | (int)s;
    return 0;
}

#define CPUID_EAX 0x5347 /* what the handler answers */

static volatile int cpuid_skipped;

static int cpuid_handler(sgx_exception_info_t *info)
{
    const uint8_t *ip = (const uint8_t *)info->cpu_context.rip;
    if (info->exception_vector != SGX_EXCEPTION_VECTOR_UD || ip[0] != 0x0f || ip[1] != 0xa2)
        return EXCEPTION_CONTINUE_SEARCH;
    info->cpu_context.rax = CPUID_EAX;
    info->cpu_context.rbx = info->cpu_context.rcx = info->cpu_context.rdx = 0;
    info->cpu_context.rip += 2;
    cpuid_skipped++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

int ecall_cpuid(void)
{
    void *h = sgx_register_exception_handler(1, cpuid_handler);
    if (h == NULL)
        return -1;
    unsigned a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    sgx_unregister_exception_handler(h);
    return cpuid_skipped == 1 ? (int)a : -2;
}

void ecall_pf(void)
{
    *(volatile int *)0 = 1;
}
