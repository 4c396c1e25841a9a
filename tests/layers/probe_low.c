/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A lower layer that calls up into a higher one, and takes a name
 * prefix that belongs to another module: the layering test must refuse
 * both (layering_selftest).
 */

int	probe_high(int);
int	probe_low(int);
int	enroll_probe(int);

int
probe_low(int x)
{
	return (probe_high(x) + 1);
}

int
enroll_probe(int x)
{
	return (x - 1);
}
