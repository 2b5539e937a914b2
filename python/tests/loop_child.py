"""Run by test_event_loop in a process of its own (the default loop is process-wide): after
virEventRegisterDefaultImpl(), callbacks and timers run inside virEventRunDefaultImpl() on the
thread that loops it. Prints what it saw as JSON."""

import json
import sys
import threading

import siphon as libvirt

uri, xml = sys.argv[1], sys.argv[2]
seen = {"events": [], "threads": set(), "ticks": 0, "timer_after_remove": 0}
removed = threading.Event()


def tick(timer, opaque):
    if removed.is_set():
        seen["timer_after_remove"] += 1
    seen["ticks"] += 1
    seen["threads"].add(threading.current_thread().name)


def lifecycle(conn, dom, event, detail, opaque):
    seen["events"].append([dom.name(), event, detail, opaque])
    seen["threads"].add(threading.current_thread().name)


libvirt.virEventRegisterDefaultImpl()
timer = libvirt.virEventAddTimeout(20, tick, None)
conn = libvirt.open(uri)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, "loop")
dom = conn.defineXML(xml)
dom.undefine()
while len(seen["events"]) < 2 or seen["ticks"] < 3:
    libvirt.virEventRunDefaultImpl()
libvirt.virEventUpdateTimeout(timer, -1)
libvirt.virEventRemoveTimeout(timer)
removed.set()
# a timer due in 0 ms keeps the loop turning without blocking
wake = libvirt.virEventAddTimeout(0, lambda t, o: None, None)
for _ in range(3):
    libvirt.virEventRunDefaultImpl()
libvirt.virEventRemoveTimeout(wake)
conn.close()
seen["threads"] = sorted(seen["threads"])
print(json.dumps(seen))
