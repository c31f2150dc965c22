// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/objects"
)

// eventFor is the event asking the interceptor to look at group g's
// object now: its metadata only, and of its labels only the version
// label. m is the object as last seen (nil when never seen: the event
// then names it as the Trigger does).
func eventFor(typ string, g contract.Group, apiVersion, kind string, m *objects.Meta) contract.Event {
	o := g.Trigger
	ref := contract.ObjectRef{APIVersion: apiVersion, Kind: kind, Metadata: contract.Meta{Name: o.Name, Namespace: o.Namespace}}
	if m != nil {
		ref.Metadata.UID, ref.Metadata.ResourceVersion = m.UID, m.ResourceVersion
		if v, ok := m.Labels[contract.VersionLabel]; ok {
			ref.Metadata.Labels = map[string]string{contract.VersionLabel: v}
		}
	}
	return contract.Event{Type: typ, Trigger: g.TriggerName, Object: ref}
}

// pendingKey is what the Poster coalesces on: one Trigger's events of one
// object (its uid, or namespace/name before it was seen).
type pendingKey struct {
	trigger, object string
}

func keyOf(ev contract.Event) pendingKey {
	m := ev.Object.Metadata
	if m.UID != "" {
		return pendingKey{ev.Trigger, m.UID}
	}
	return pendingKey{ev.Trigger, m.Namespace + "/" + m.Name}
}

// merge coalesces two events of one object for one Trigger not yet
// posted: the newer state wins, and so does its type, but for a resync,
// which says less than whatever it follows.
func merge(earlier, later contract.Event) contract.Event {
	if later.Type == contract.Resync {
		later.Type = earlier.Type
	}
	return later
}
