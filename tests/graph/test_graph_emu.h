/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared by the two halves of test_graph_emu: the emulator harness and
 * the Graph calls (test_graph_emu.c), the sign-in flows
 * (test_graph_emu_auth.c).
 */

#ifndef TEST_GRAPH_EMU_H
#define TEST_GRAPH_EMU_H

#include <jansson.h>

#include "graph.h"

#define APP_ID		"5b7e2c1a-0f4d-4c3b-9a8e-6d5f4e3c2b1a"
#define APP_SECRET	"emulator-test-secret"
#define CERT_APP	"c0c0c0c0-0000-4000-8000-00000000cafe"
#define ALICE		"44444444-4444-4444-8444-444444444444"
#define BOB		"55555555-5555-4555-8555-555555555555"
#define PILOT		"b0000000-0000-4000-8000-000000000001"
#define BULK		"b0000000-0000-4000-8000-000000000003"

extern char	dir[64], ca[128], base[64], state_dir[128];
extern char	certp[128], keyp[128];

void	sh(const char *, ...) __attribute__((format(printf, 1, 2)));
/* the emulator's control API: JSON in, state out */
void	ctl(const char *, const char *, const char *);
void	faults(const char *);
json_t	*emu_state(void);
int	setup(void **);
/* a client of the emulator: the app-only one, the signed-in admin */
graph_client_t *client(const char *, int, int);
graph_client_t *app(void);
graph_client_t *admin(void);
/* register a soft credential for user, and whether Graph holds cred */
void	register_one(graph_client_t *, const char *, graph_method_t **,
	    char **);
int	registered(const char *, const char *);

/* test_graph_emu_auth.c */
void	test_client_secret(void **);
void	test_client_cert(void **);
void	test_device_code(void **);
void	test_device_code_slow_down(void **);
void	test_browser(void **);
void	test_expired_refreshed_once(void **);
void	test_revoked(void **);
void	test_app_renewal(void **);

#endif /* TEST_GRAPH_EMU_H */
