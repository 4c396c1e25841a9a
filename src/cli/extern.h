/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * CLI-wide declarations: the global context, exit codes and verbs.
 */

#ifndef PROV_EXTERN_H
#define PROV_EXTERN_H

#include <stdbool.h>
#include <stddef.h>

/* documented exit codes (README, provisioning.1) */
#define EXIT_OK		0
#define EXIT_PARTIAL	1	/* some users failed: see failures file */
#define EXIT_USAGE	2	/* usage or bad input */
#define EXIT_AUTH	3	/* authentication / authorization */
#define EXIT_KEY	4	/* authenticator */
#define EXIT_NET	5	/* Graph / network */
#define EXIT_INTR	130	/* interrupted */

#define DEFAULT_CLIENT_ID	"14d82eec-204b-4c2f-b7e8-296a70dab67e"

struct prov_ctx {
	const char	*tenant;
	const char	*client_id;
	const char	*cloud;		/* global|usgov|usgov-dod|china */
	const char	*authority_url;
	const char	*graph_url;
	const char	*graph_version;	/* v1.0|beta */
	const char	*ca_bundle;
	bool		 disable_ssl_verify;
	bool		 local_ssl_verify;
	const char	*state_dir;	/* resolved, never NULL after init */
	const char	*device;
	const char	*virtual_keys;
	int		 verbose;
	bool		 json;
	bool		 headful;
	const char	*progname;
};

typedef int cmd_fn(struct prov_ctx *, int, char **);

/* verbs: argv[0] is the verb name; return an EXIT_* code */
cmd_fn	cmd_devices;
cmd_fn	cmd_pin;
cmd_fn	cmd_reset;
cmd_fn	cmd_webauthn;
cmd_fn	cmd_login;
cmd_fn	cmd_logout;
cmd_fn	cmd_whoami;
cmd_fn	cmd_list;
cmd_fn	cmd_remove;
cmd_fn	cmd_doctor;
cmd_fn	cmd_enroll;
cmd_fn	cmd_auto;
cmd_fn	cmd_kiosk;
cmd_fn	cmd_deeplink;

/* pinread.c: PIN from the environment variable named, or a prompt */
char	*pin_read(const char *envname, const char *prompt, bool confirm);

/* keypick.c: the key a single-key command uses */
struct ctap_dev;
int	key_pick(const struct prov_ctx *, char **);
int	key_open(const char *, struct ctap_dev **);

/* graphctx.c: a Graph client from the global options */
struct graph_client;
int	cli_graph_open(const struct prov_ctx *, struct graph_client **);
int	cli_graph_exit(int);			/* GRAPH_ERR_* -> EXIT_* */
void	cli_graph_error(struct graph_client *, const char *, int);

/* util.c */
int	cli_ctap_exit(int);		/* CTAP_ERR_* -> EXIT_* */
int	state_dir_ensure(const struct prov_ctx *);
void	usage_error(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* sig.c: Ctrl+C handling; the sigwait thread cancels registered keys */
int	sig_setup(void);
bool	sig_interrupted(void);
struct ctap_dev;
void	sig_watch(struct ctap_dev *);	/* cancel this key on Ctrl+C */
void	sig_unwatch(struct ctap_dev *);

#endif /* PROV_EXTERN_H */
