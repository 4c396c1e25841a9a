/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A lower layer that calls up into a higher one: the layering test
 * must refuse it (layering_selftest).
 */

int	probe_high(int);
int	probe_low(int);

int
probe_low(int x)
{
	return (probe_high(x) + 1);
}
