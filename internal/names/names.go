// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package names suggests the nearest known name for a misspelt one
// (numRequest -> numRequests), for error messages.
package names

import "sort"

// Closest returns the candidate nearest to name by edit distance, if one
// is within maxDistance edits. Ties go to the alphabetically first.
func Closest(name string, candidates []string, maxDistance int) (string, bool) {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestDist := "", maxDistance+1
	for _, c := range sorted {
		if d := distance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
