/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The higher layer the probe reaches into.
 */

int	probe_high(int);

int
probe_high(int x)
{
	return (x * 2);
}
