"""The 2011 block-pull scenario through the binding, against a real daemon: define a domain whose
disk is a qcow2 clone of a template, start it, pull, poll blockJobInfo, see the event; abort;
single increments; bandwidth changes; rebase onto a base."""

import os
import threading
import unittest

from support import MIB, DaemonTest, Events, backing_file, domain_xml, overlay, run, siphon, template, wait_until
from daemon import Daemon

DAEMON = None


def setUpModule():
    global DAEMON
    DAEMON = Daemon()


def tearDownModule():
    DAEMON.stop()


class BlockJobTest(DaemonTest):
    def daemon(self):
        return DAEMON

    def started(self, name: str, data_mib: int = 8):
        """A started domain ``name`` whose vda is a clone of a 16 MiB template holding ``data_mib`` MiB."""
        self.template = template(os.path.join(self.dir, "template.qcow2"), 16, data_mib)
        self.clone = overlay(os.path.join(self.dir, "clone.qcow2"), self.template)
        self.events = Events(self.conn)
        self.addCleanup(self.events.close)
        dom = self.conn.defineXML(domain_xml(name, self.clone))
        self.assertEqual(
            (name, siphon.VIR_DOMAIN_EVENT_DEFINED, siphon.VIR_DOMAIN_EVENT_DEFINED_ADDED, "opaque-l"),
            self.events.next("lifecycle"),
        )
        self.assertEqual(0, dom.isActive())
        self.assertEqual(0, dom.create())
        self.assertEqual(
            (name, siphon.VIR_DOMAIN_EVENT_STARTED, siphon.VIR_DOMAIN_EVENT_STARTED_BOOTED, "opaque-l"),
            self.events.next("lifecycle"),
        )
        self.assertEqual(1, dom.isActive())
        self.addCleanup(self.stop, dom)
        return dom

    def stop(self, dom):
        if dom.isActive():
            dom.destroy()

    def assert_completed(self, name: str):
        pull, completed = siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, siphon.VIR_DOMAIN_BLOCK_JOB_COMPLETED
        self.assertEqual((name, "vda", pull, completed, "opaque-2"), self.events.next("block-job-2"))
        self.assertEqual((name, self.clone, pull, completed, "opaque-1"), self.events.next("block-job"))
        self.assertIsNone(backing_file(self.clone))

    def test_pull_polled_with_block_job_info_until_done_then_the_event(self):
        dom = self.started("pull2011")
        self.assertEqual(0, dom.blockPull("vda", 2))
        info = dom.blockJobInfo("vda")
        self.assertEqual(siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, info["type"])
        self.assertEqual(2, info["bandwidth"])
        self.assertEqual(16 * MIB, info["end"])
        self.assertLessEqual(info["cur"], info["end"])
        seen = [info["cur"]]

        def finished():
            now = dom.blockJobInfo("vda")
            if now:
                seen.append(now["cur"])
            return now == {}

        wait_until("the pull ends", finished)
        self.assertEqual(sorted(seen), seen, "cur never goes back")
        self.assert_completed("pull2011")
        self.assertEqual(0, dom.shutdown())
        self.assertEqual(
            ("pull2011", siphon.VIR_DOMAIN_EVENT_STOPPED, siphon.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, "opaque-l"),
            self.events.next("lifecycle"),
        )
        self.assertIn("identical", run("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", self.clone, self.template))

    def test_abort_waits_for_the_end_and_async_abort_returns_at_once(self):
        dom = self.started("abort")
        canceled = ("abort", "vda", siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, siphon.VIR_DOMAIN_BLOCK_JOB_CANCELED, "opaque-2")
        dom.blockPull("vda", 1)
        self.assertTrue(dom.blockJobInfo("vda"))
        self.assertEqual(0, dom.blockJobAbort("vda"))
        self.assertEqual({}, dom.blockJobInfo("vda"))
        self.assertEqual(canceled, self.events.next("block-job-2"))
        self.assertEqual(self.template, backing_file(self.clone))

        dom.blockPull("vda", 512 * 1024, siphon.VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES)
        self.assertEqual(512 * 1024, dom.blockJobInfo("vda", siphon.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES)["bandwidth"])
        self.assertEqual(0, dom.blockJobAbort("vda", siphon.VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC))
        self.assertEqual(canceled, self.events.next("block-job-2"))
        self.assertEqual({}, dom.blockJobInfo("vda"))
        self.assertEqual(self.template, backing_file(self.clone))

    def test_single_increments_to_the_end(self):
        dom = self.started("steps")
        steps = []
        while not steps or not steps[-1]["completed"]:
            steps.append(dom.blockPullStep("vda"))
            self.assertLess(len(steps), 64, "a 16 MiB disk takes far fewer steps")
            if not steps[-1]["completed"]:
                self.assertEqual(siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, dom.blockJobInfo("vda")["type"])
        self.assertGreater(len(steps), 2, "8 MiB of data is more than two 1 MiB increments")
        curs = [s["cur"] for s in steps]
        self.assertEqual(sorted(set(curs)), curs, "each increment moves on")
        self.assertEqual(steps[-1]["end"], steps[-1]["cur"])
        self.assert_completed("steps")
        self.assertEqual({}, dom.blockJobInfo("vda"))

    def test_bandwidth_changes_in_mib_and_in_bytes(self):
        dom = self.started("speed")
        dom.blockPull("vda", 1)
        self.assertEqual(1, dom.blockJobInfo("vda")["bandwidth"])
        self.assertEqual(0, dom.blockJobSetSpeed("vda", 3))
        self.assertEqual(3, dom.blockJobInfo("vda")["bandwidth"])
        self.assertEqual(3 * MIB, dom.blockJobInfo("vda", siphon.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES)["bandwidth"])
        dom.blockJobSetSpeed("vda", 5 * MIB + 1, siphon.VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES)
        self.assertEqual(5 * MIB + 1, dom.blockJobInfo("vda", siphon.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES)["bandwidth"])
        self.assertEqual(6, dom.blockJobInfo("vda")["bandwidth"], "MiB/s rounded up: a limit never reads as 0")
        # paused, so that the job cannot end between lifting the limit and reading it back
        self.assertEqual(0, dom.blockJobPause("vda"))
        dom.blockJobSetSpeed("vda", 0)
        self.assertEqual(0, dom.blockJobInfo("vda")["bandwidth"])
        self.assertEqual(0, dom.blockJobResume("vda"))
        self.assert_completed("speed")

    def test_rebase_onto_a_base_keeps_the_base(self):
        base = template(os.path.join(self.dir, "base.qcow2"), 16, 4)
        middle = overlay(os.path.join(self.dir, "middle.qcow2"), base)
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 4M 4M", middle)
        top = overlay(os.path.join(self.dir, "top.qcow2"), middle)
        events = Events(self.conn)
        self.addCleanup(events.close)
        dom = self.conn.defineXML(domain_xml("rebase", top))
        dom.create()
        self.addCleanup(self.stop, dom)
        self.assertEqual(0, dom.blockRebase("vda", base, 0))
        done = events.next("block-job-2")
        self.assertEqual(("rebase", "vda", siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, siphon.VIR_DOMAIN_BLOCK_JOB_COMPLETED), done[:4])
        self.assertEqual(base, backing_file(top))
        dom.shutdown()
        self.assertIn("identical", run("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", top, middle))


    def sent_pulls(self):
        """The arguments of every block-pull this connection sends from now on (still sent)."""
        session = self.conn._session
        sent = []
        call = session.call

        def recording(command, arguments=None, timeout=None):
            if command == "block-pull":
                sent.append(dict(arguments))
            return call(command, arguments, timeout)

        session.call = recording
        self.addCleanup(setattr, session, "call", call)
        return sent

    def test_pull_paced_by_the_guest_in_profile_order(self):
        dom = self.started("smart")
        sent = self.sent_pulls()
        flags = siphon.VIR_DOMAIN_BLOCK_PULL_PACE_GUEST | siphon.VIR_DOMAIN_BLOCK_PULL_ORDER_PROFILE
        self.assertEqual(0, dom.blockPull("vda", 0, flags))
        self.assertEqual("guest", sent[0]["pace"])
        self.assertEqual("profile", sent[0]["order"])
        self.assert_completed("smart")

    def test_a_plain_pull_sends_neither_pace_nor_order(self):
        dom = self.started("plain")
        sent = self.sent_pulls()
        dom.blockPull("vda", 0)
        self.assertNotIn("pace", sent[0])
        self.assertNotIn("order", sent[0])
        self.assertNotIn("on-outage", sent[0])
        self.assert_completed("plain")

    def test_pull_that_fails_on_an_outage_sends_on_outage(self):
        # the template is local, so the daemon takes the policy and the pull completes as any other
        dom = self.started("failoutage")
        sent = self.sent_pulls()
        self.assertEqual(0, dom.blockPull("vda", 0, siphon.VIR_DOMAIN_BLOCK_PULL_FAIL_ON_OUTAGE))
        self.assertEqual("fail", sent[0]["on-outage"])
        self.assertNotIn("pace", sent[0])
        self.assert_completed("failoutage")

    def test_rebase_that_fails_on_an_outage_sends_on_outage(self):
        dom = self.started("failoutagerebase")
        sent = self.sent_pulls()
        self.assertEqual(0, dom.blockRebase("vda", None, 0, siphon.VIR_DOMAIN_BLOCK_REBASE_FAIL_ON_OUTAGE))
        self.assertEqual("fail", sent[0]["on-outage"])
        self.assert_completed("failoutagerebase")

    def test_rebase_paced_by_the_guest_in_profile_order(self):
        dom = self.started("smartrebase")
        sent = self.sent_pulls()
        flags = siphon.VIR_DOMAIN_BLOCK_REBASE_PACE_GUEST | siphon.VIR_DOMAIN_BLOCK_REBASE_ORDER_PROFILE
        self.assertEqual(0, dom.blockRebase("vda", None, 0, flags))
        self.assertEqual(("guest", "profile"), (sent[0]["pace"], sent[0]["order"]))
        self.assert_completed("smartrebase")

    def test_a_flag_above_siphons_own_is_refused(self):
        dom = self.started("unknownflag")
        with self.assertRaises(siphon.libvirtError) as refused:
            dom.blockPull("vda", 0, 1 << 19)
        self.assertIn("virDomainBlockPull", str(refused.exception))


class DomainTest(DaemonTest):
    """Definitions, look-ups and lists."""

    def daemon(self):
        return DAEMON

    def setUp(self):
        super().setUp()
        image = template(os.path.join(self.dir, "disk.qcow2"), 1, 0)
        # the event of a definition may follow its reply: seen here, it cannot reach a later callback
        defined = Events(self.conn)
        self.dom = self.conn.defineXML(domain_xml(self.id().rsplit("_", 1)[-1], image))
        self.addCleanup(self.dom.undefine)
        self.assertEqual((self.dom.name(), siphon.VIR_DOMAIN_EVENT_DEFINED), defined.next("lifecycle")[:2])
        defined.close()

    def test_look_ups_by_name_and_uuid_find_the_same_domain(self):
        name, uuid = self.dom.name(), self.dom.UUIDString()
        self.assertEqual(uuid, self.conn.lookupByName(name).UUIDString())
        self.assertEqual(name, self.conn.lookupByUUIDString(uuid).name())
        self.assertEqual(name, self.conn.lookupByUUIDString(uuid.upper()).name())
        self.assertEqual(16, len(self.dom.UUID()))
        with self.assertRaises(siphon.libvirtError) as raised:
            self.conn.lookupByName(uuid)  # a UUID is not a name
        self.assertEqual(siphon.VIR_ERR_NO_DOMAIN, raised.exception.get_error_code())

    def test_list_all_domains_filters_on_state(self):
        name = self.dom.name()
        names = lambda flags=0: [d.name() for d in self.conn.listAllDomains(flags)]  # noqa: E731
        self.assertIn(name, names())
        self.assertIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_INACTIVE))
        self.assertNotIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        self.assertEqual([], names(siphon.VIR_CONNECT_LIST_DOMAINS_TRANSIENT))
        self.dom.create()
        self.assertIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        self.assertEqual([siphon.VIR_DOMAIN_RUNNING, siphon.VIR_DOMAIN_RUNNING_BOOTED], self.dom.state())
        self.dom.destroy()
        self.assertNotIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        self.assertEqual(siphon.VIR_DOMAIN_SHUTOFF, self.dom.state()[0])

    def test_xml_desc_defines_the_same_domain_again(self):
        xml = self.dom.XMLDesc()
        self.assertIn("<name>%s</name>" % self.dom.name(), xml)
        self.assertIn("<uuid>%s</uuid>" % self.dom.UUIDString(), xml)
        self.assertIn("copy_on_read='on'", xml)
        again = self.conn.defineXML(xml)
        self.assertEqual(self.dom.UUIDString(), again.UUIDString())
        self.assertEqual(xml, again.XMLDesc())

    def test_xml_desc_is_the_definition_as_written_with_its_uuid(self):
        image = template(os.path.join(self.dir, "kept.qcow2"), 1, 0)
        written = domain_xml("kept", image).replace(
            "  </devices>", "    <graphics type='vnc' port='-1'/>\n    <rng model='virtio'/>\n  </devices>"
        )
        dom = self.conn.defineXML(written)
        self.addCleanup(dom.undefine)
        name_line = "  <name>kept</name>\n"
        self.assertEqual(
            written.replace(name_line, name_line + "  <uuid>%s</uuid>\n" % dom.UUIDString()), dom.XMLDesc()
        )

    def test_block_info_gives_capacity_allocation_and_physical(self):
        image = os.path.join(self.dir, "disk.qcow2")
        stat = os.stat(image)
        expected = [1 * MIB, stat.st_blocks * 512, stat.st_size]
        self.assertEqual(expected, self.dom.blockInfo("vda"))
        self.dom.create()
        self.addCleanup(self.dom.destroy)
        self.assertEqual(expected, self.dom.blockInfo(image))
        with self.assertRaises(siphon.libvirtError) as raised:
            self.dom.blockInfo("vdz")
        self.assertEqual(siphon.VIR_ERR_INVALID_ARG, raised.exception.get_error_code())

    def test_block_stats_count_the_requests_on_the_export(self):
        with self.assertRaises(siphon.libvirtError) as raised:
            self.dom.blockStats("vda")
        self.assertEqual(siphon.VIR_ERR_OPERATION_INVALID, raised.exception.get_error_code())
        self.dom.create()
        self.addCleanup(self.dom.destroy)
        nbd = self.dom._call("domain-disks")[0]["nbd-uri"]
        run("qemu-io", "-f", "raw", "-c", "write -P 7 0 4k", "-c", "read 0 8k", nbd)
        self.assertEqual((1, 8192, 1, 4096, -1), self.dom.blockStats("vda"))
        self.assertEqual(self.dom.blockStats("vda"), self.dom.blockStats(""), "one disk: the totals are its counts")
        typed = self.dom.blockStatsFlags("vda")
        self.assertEqual(
            {
                "rd_operations", "rd_bytes", "wr_operations", "wr_bytes", "flush_operations",
                "rd_total_times", "wr_total_times", "flush_total_times",
            },
            set(typed),
        )
        self.assertEqual((1, 8192, 1, 4096), (
            typed[siphon.VIR_DOMAIN_BLOCK_STATS_READ_REQ], typed[siphon.VIR_DOMAIN_BLOCK_STATS_READ_BYTES],
            typed[siphon.VIR_DOMAIN_BLOCK_STATS_WRITE_REQ], typed[siphon.VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES],
        ))
        self.assertGreater(typed[siphon.VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES], 0)

    def test_autostart_is_marked_and_filters_the_list(self):
        name = self.dom.name()
        names = lambda flags: [d.name() for d in self.conn.listAllDomains(flags)]  # noqa: E731
        self.assertEqual(0, self.dom.autostart())
        self.assertIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART))
        self.assertEqual(0, self.dom.setAutostart(1))
        self.assertEqual(1, self.dom.autostart())
        self.assertIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_AUTOSTART))
        self.assertNotIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART))
        self.dom.setAutostart(0)
        self.assertEqual(0, self.dom.autostart())
        self.assertNotIn(name, names(siphon.VIR_CONNECT_LIST_DOMAINS_AUTOSTART))
        self.assertRaises(TypeError, self.dom.setAutostart, "yes")

    def test_callbacks_for_one_domain_see_only_that_domain_and_stop_when_deregistered(self):
        mine, everyone = Events(self.conn, self.dom), Events(self.conn)
        self.addCleanup(everyone.close)
        other = self.conn.defineXML(domain_xml("other", template(os.path.join(self.dir, "o.qcow2"), 1, 0)))
        self.addCleanup(other.undefine)
        self.assertEqual(("other", siphon.VIR_DOMAIN_EVENT_DEFINED), everyone.next("lifecycle")[:2])
        other.create()
        self.assertEqual(("other", siphon.VIR_DOMAIN_EVENT_STARTED), everyone.next("lifecycle")[:2])
        self.dom.create()
        self.assertEqual((self.dom.name(), siphon.VIR_DOMAIN_EVENT_STARTED), mine.next("lifecycle")[:2])
        self.assertEqual((self.dom.name(), siphon.VIR_DOMAIN_EVENT_STARTED), everyone.next("lifecycle")[:2])
        mine.close()
        other.destroy()
        self.dom.destroy()
        self.assertEqual(("other", siphon.VIR_DOMAIN_EVENT_STOPPED, siphon.VIR_DOMAIN_EVENT_STOPPED_DESTROYED), everyone.next("lifecycle")[:3])
        self.assertEqual((self.dom.name(), siphon.VIR_DOMAIN_EVENT_STOPPED), everyone.next("lifecycle")[:2])
        self.assertTrue(mine.items.empty(), "no callback after domainEventDeregisterAny")
        with self.assertRaises(siphon.libvirtError):
            self.conn.domainEventDeregisterAny(mine.ids[0])

    def test_calls_from_many_threads_share_one_connection(self):
        # lines larger than the socket's buffers, so that sends are partial and must not interleave
        padding = "<!-- %s -->" % ("x" * 400_000)
        image = template(os.path.join(self.dir, "shared.qcow2"), 1, 0)
        failures, names = [], []

        def worker(index: int):
            try:
                for round_ in range(3):
                    name = "thread%d-%d" % (index, round_)
                    xml = domain_xml(name, image).replace("<devices>", padding + "<devices>")
                    dom = self.conn.defineXML(xml)
                    names.append(dom.name())
                    self.assertEqual(name, dom.name())
                    self.assertEqual(dom.UUIDString(), self.conn.lookupByName(name).UUIDString())
                    dom.undefine()
            except Exception as e:  # reported by the main thread
                failures.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual([], failures)
        self.assertEqual(18, len(names))
        self.assertEqual(1, self.conn.isAlive())


if __name__ == "__main__":
    unittest.main()
