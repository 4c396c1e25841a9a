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
	const char	*mds_root;	/* PEM: replaces the pinned MDS roots */
	const char	*queue;		/* the fleet queue's conninfo */
	const char	*station;	/* this station's name, or NULL */
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
cmd_fn	cmd_mds;
cmd_fn	cmd_queue;

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

/* csvusers.c: the users of a CSV file, read as the run takes them */
struct enroll_opts;
struct enroll_list;
struct enroll_source;
struct cli_csv_users;
int	cli_csv_users_open(const char *, const struct enroll_opts *,
	    struct cli_csv_users **, struct enroll_source *, size_t *bad);
void	cli_csv_users_free(struct cli_csv_users **);
int	cli_users_csv(const char *, const struct enroll_opts *,
	    struct enroll_list *, size_t *);

/* cmd_enroll.c: users from a group; the signed-in admin */
int	cli_users_group(struct graph_client *, const char *,
	    struct enroll_list *);
int	cli_admin_open(struct prov_ctx *, struct graph_client **);
int	cli_enroll_exit(int);			/* ENROLL_* -> EXIT_* */

/* station.c: enroll|auto|kiosk --queue, a station of the fleet */
#define QUEUE_LEASE_SECONDS	60
struct enroll_hooks;
int	cli_station_run(struct prov_ctx *, int, struct enroll_opts *,
	    const struct enroll_hooks *, int, int);

/* cmd_queue.c: the fleet queue of --queue / PROVISIONING_QUEUE */
struct queue;
const char *cli_station(const struct prov_ctx *);
int	cli_queue_open(const struct prov_ctx *, struct queue **);
int	cli_queue_exit(int);			/* QUEUE_ERR_* -> EXIT_* */

/* util.c */
int	cli_ctap_exit(int);		/* CTAP_ERR_* -> EXIT_* */
int	state_dir_ensure(const struct prov_ctx *);
#define RUN_LOCK_FILE	"run.lock"
int	run_lock_take(const struct prov_ctx *, int *);	/* EXIT_* */
struct json_t;
int	cli_print_json(struct json_t *);	/* takes the reference */
/*
 * text_safe() for printing Graph's, a key's or a link's words: valid
 * until eight more calls on this thread (one printf's arguments).
 */
const char *cli_safe(const char *);

/*
 * opts.c: every verb's options.  A table of optdef, ended by a NULL
 * name; --help and -h are implied.  opts_next() returns the id of the
 * next option (its value in op->arg), OPTS_HELP, OPTS_END (operands
 * from op->ind on) or OPTS_ERR (a usage error, already printed with a
 * pointer to the verb's --help).  Only whole option names are taken.
 */
#define OPTS_MAX	40
#define OPTS_END	(-1)
#define OPTS_HELP	(-2)
#define OPTS_ERR	(-3)
#define OPTS_INORDER	0x01	/* options end at the first operand */
#define OPTDEF_OPTIONAL	0x01	/* the value is optional (--opt=value) */

struct optdef {
	const char	*name;	/* without "--" */
	const char	*arg;	/* what the value is ("FILE"); NULL: none */
	int		 id;	/* > 0 */
	int		 flags;	/* OPTDEF_* */
};

struct opts {
	const char		*cmd;	/* "enroll", "pin set": for messages */
	const struct optdef	*defs;
	int			 flags;	/* OPTS_* */
	int			 argc;
	char			**argv;
	char			*arg;	/* the value of the option returned */
	int			 cur;	/* its index in defs, or -1 */
	int			 ind;	/* the first operand, at OPTS_END */
};

void		 opts_init(struct opts *, const char *, const struct optdef *,
		    int, int, char **);
int		 opts_next(struct opts *);
const char	*opts_name(const struct opts *);
/* op->arg as an int in [lo, hi]; -1 after a usage error (unit: "hours") */
int		 opts_int(const struct opts *, int, int, const char *, int *);
/*
 * op->arg names a variable holding a PIN (--pin-env VAR): keep it out
 * of every helper's environment (env_scrub_name); -1 after an error
 */
int		 opts_pin_env(const struct opts *);
/* min..max operands (max -1: any); their count, or -1 after an error */
int		 opts_operands(const struct opts *, int, int, const char *);
/* argv[1] as one of subs (NULL-ended): its index, OPTS_HELP or OPTS_ERR */
int		 opts_subverb(const char *, int, char **, const char *const *);
/* "provisioning CMD: ...", then "see 'provisioning CMD --help'" */
void		 opts_error(const struct opts *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 cmd_usage_error(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* the same for the global options */
void		 usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* sig.c: Ctrl+C handling; the sigwait thread cancels registered keys */
int	sig_setup(void);
bool	sig_interrupted(void);
struct ctap_dev;
void	sig_watch(struct ctap_dev *);	/* cancel this key on Ctrl+C */
void	sig_unwatch(struct ctap_dev *);

#endif /* PROV_EXTERN_H */
