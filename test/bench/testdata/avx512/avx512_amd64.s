// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

#include "textflag.h"

// func xorZ0()
TEXT ·xorZ0(SB), NOSPLIT, $0-0
	VPXORD Z0, Z0, Z0
	VZEROUPPER
	RET
