"""Thai subject search over many letters: letters bulk-loaded into the tables the inbox and outbox searches
read (intake's letters and recipients, routing's deliveries), as one sender's outbox and one recipient's
inbox, then fragments searched for through the gateway as those units' clerks."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.flows import percentile
from services.intake.domain.letters import SEND_REGISTER
from services.routing.domain.deliveries import URGENCY_RANK
from shared import thai

BATCH = 50_000
# Historic years only (2560-2567 BE), so register numbers never meet the numbering of letters sent today.
FIRST_SENT = datetime(2017, 1, 3, 2, 0, tzinfo=UTC)
SPAN = timedelta(days=8 * 365)

ACTIONS = (
    "ขอความอนุเคราะห์",
    "ขอเชิญประชุมเรื่อง",
    "ขออนุมัติ",
    "แจ้งเวียน",
    "รายงานผล",
    "ขอส่งรายงาน",
    "ขอชี้แจงเรื่อง",
    "ขอหารือแนวทางปฏิบัติเกี่ยวกับ",
    "ขอให้ตรวจสอบ",
    "ซักซ้อมความเข้าใจเรื่อง",
    "ขอความร่วมมือ",
    "ขอรับการสนับสนุน",
    "แจ้งผลการพิจารณา",
    "ขอเบิกจ่าย",
    "ขอยืนยันข้อมูล",
    "ขอเชิญเข้าร่วมโครงการ",
    "ขอปรับปรุงแก้ไข",
    "ขอขยายระยะเวลา",
)
TOPICS = (
    "การเบิกจ่ายงบประมาณรายจ่ายประจำปี",
    "การจัดซื้อจัดจ้างครุภัณฑ์คอมพิวเตอร์",
    "ระบบบริหารการเงินการคลังภาครัฐแบบอิเล็กทรอนิกส์",
    "การตรวจสอบภายในประจำปี",
    "การประเมินผลการปฏิบัติราชการ",
    "การโอนเปลี่ยนแปลงงบประมาณ",
    "ค่าเช่าบ้านข้าราชการ",
    "สวัสดิการค่ารักษาพยาบาล",
    "บำเหน็จบำนาญข้าราชการ",
    "การฝึกอบรมหลักสูตรนักบริหารระดับกลาง",
    "การจัดเก็บภาษีมูลค่าเพิ่ม",
    "ภาษีสรรพสามิตสินค้าน้ำมัน",
    "พิธีการศุลกากรสินค้านำเข้า",
    "การบริหารหนี้สาธารณะ",
    "การใช้ประโยชน์ที่ราชพัสดุ",
    "การประเมินราคาทรัพย์สินเพื่อการจดทะเบียน",
    "การกำกับดูแลรัฐวิสาหกิจ",
    "การป้องกันและปราบปรามการทุจริต",
    "ระบบสารบรรณอิเล็กทรอนิกส์",
    "การคุ้มครองข้อมูลส่วนบุคคล",
    "การรักษาความมั่นคงปลอดภัยไซเบอร์",
    "เงินอุดหนุนองค์กรปกครองส่วนท้องถิ่น",
    "ค่าตอบแทนการปฏิบัติงานนอกเวลาราชการ",
    "การเดินทางไปราชการต่างประเทศ",
    "การจัดหาครุภัณฑ์ยานพาหนะ",
    "การปรับปรุงซ่อมแซมอาคารสำนักงาน",
    "หลักเกณฑ์การกันเงินไว้เบิกเหลื่อมปี",
    "การรับเงินและนำเงินส่งคลัง",
    "การบริหารพัสดุภาครัฐ",
    "แผนปฏิบัติราชการระยะ 5 ปี",
)
PROVINCES = (
    "กรุงเทพมหานคร",
    "เชียงใหม่",
    "เชียงราย",
    "ลำปาง",
    "พิษณุโลก",
    "นครสวรรค์",
    "ขอนแก่น",
    "อุดรธานี",
    "อุบลราชธานี",
    "นครราชสีมา",
    "บุรีรัมย์",
    "สุรินทร์",
    "ศรีสะเกษ",
    "ชลบุรี",
    "ระยอง",
    "จันทบุรี",
    "ตราด",
    "ฉะเชิงเทรา",
    "ปราจีนบุรี",
    "สระแก้ว",
    "ราชบุรี",
    "กาญจนบุรี",
    "เพชรบุรี",
    "ประจวบคีรีขันธ์",
    "ชุมพร",
    "สุราษฎร์ธานี",
    "นครศรีธรรมราช",
    "สงขลา",
    "ภูเก็ต",
    "กระบี่",
    "ตรัง",
    "พัทลุง",
    "ปัตตานี",
    "ยะลา",
    "นราธิวาส",
    "แม่ฮ่องสอน",
    "น่าน",
    "แพร่",
    "สุโขทัย",
    "อยุธยา",
)
OFFICES = (
    "สำนักงานคลังจังหวัด",
    "สำนักงานสรรพากรพื้นที่",
    "ด่านศุลกากร",
    "สำนักงานธนารักษ์พื้นที่",
    "สำนักงานสรรพสามิตพื้นที่",
    "ศาลากลางจังหวัด",
)

# What a clerk types: mostly a piece from inside a word (Thai has no spaces to start from), from very common
# to rare, one that matches nothing, and a piece of a letter number.
FRAGMENTS = (
    "บประมา",  # งบประมาณ: in a large share of subjects
    "ครุภัณ",  # ครุภัณฑ์: two topics
    "ทุจริ",  # ทุจริต: one topic
    "ข้อมูลส่วนบุ",  # one topic
    "ชียงให",  # เชียงใหม่: one province
    "อุบลราชธา",  # one province
    "นอกเวลาราช",  # one topic
    "ศุลกากรสินค้า",  # one topic
    "ไตรมาสที่ 3",
    "เดือนพฤศจิกา",
    "ดาวเทียมสำรวจ",  # nothing
    "0200/4321",  # a letter number
)


def subject(rng: random.Random, sent_at: datetime) -> str:
    year = sent_at.year + 543
    where = rng.choice(
        (
            f"ของ{rng.choice(OFFICES)}{rng.choice(PROVINCES)}",
            f"จังหวัด{rng.choice(PROVINCES)}",
            f"ประจำปีงบประมาณ พ.ศ. {year}",
            f"ไตรมาสที่ {rng.randint(1, 4)} ปีงบประมาณ พ.ศ. {year}",
            f"ประจำเดือน{thai.MONTHS[sent_at.month - 1]} {year}",
        )
    )
    text = f"{rng.choice(ACTIONS)}{rng.choice(TOPICS)} {where}"
    if rng.random() < 0.3:
        text += f" (ครั้งที่ {rng.randint(2, 5)})"
    return thai.clean(text)


class Letters:
    """The n-th seeded letter, the same in every table it is written to."""

    def __init__(self, count: int, sender: uuid.UUID, sender_code: str, recipient: uuid.UUID, seed: int = 2569):
        self.count = count
        self.sender = sender
        self.code = sender_code
        self.recipient = recipient
        self.rng = random.Random(seed)
        self.numbers: dict[int, int] = {}

    def next(self, n: int) -> dict:
        sent_at = FIRST_SENT + SPAN * (n / self.count)
        year = sent_at.year + 543
        number = self.numbers[year] = self.numbers.get(year, 0) + 1
        urgency = self.rng.choices(("normal", "urgent", "very_urgent", "most_urgent"), (88, 8, 3, 1))[0]
        secrecy = "confidential" if self.rng.random() < 0.02 else "normal"
        return {
            "id": uuid.uuid4(),
            "delivery_id": uuid.uuid4(),
            "doc_no": f"{self.code}/{number}",
            "number": number,
            "year": year,
            "subject": subject(self.rng, sent_at),
            "urgency": urgency,
            "secrecy": secrecy,
            "sent_at": sent_at,
        }

    def rows(self, letter: dict) -> tuple[tuple, tuple, tuple]:
        """(intake.letters, intake.letter_recipients, routing.deliveries) rows of one letter."""
        sent_at, delivered_at = letter["sent_at"], letter["sent_at"] + timedelta(seconds=1)
        intake = (
            letter["id"],
            letter["doc_no"],
            SEND_REGISTER,
            letter["number"],
            letter["year"],
            self.sender,
            "external",
            letter["subject"],
            "",
            letter["urgency"],
            letter["secrecy"],
            False,
            "เรียน อธิบดีกรมบัญชีกลาง",
            "นายทดสอบ ระบบงาน",
            "ปลัดกระทรวงการคลัง",
            "[]",
            "[]",
            "sent",
            sent_at,
            "ops.clerk",
            sent_at.astimezone(thai.BANGKOK).date(),
            self.sender,  # ops keeps its own registers
        )
        recipient = (letter["delivery_id"], letter["id"], self.recipient, 0, False)
        routing = (
            letter["delivery_id"],
            letter["id"],
            self.sender,
            self.recipient,
            letter["doc_no"],
            letter["subject"],
            "external",
            letter["urgency"],
            URGENCY_RANK[letter["urgency"]],
            letter["secrecy"],
            False,
            "delivered",
            sent_at,
            delivered_at,
        )
        return intake, recipient, routing


INTAKE_COLUMNS = (
    "id",
    "doc_no",
    "register",
    "register_no",
    "register_year",
    "sender_org_id",
    "letter_type",
    "subject",
    "body",
    "urgency",
    "secrecy",
    "circular",
    "salutation",
    "signer_name",
    "signer_position",
    "attachment_ids",
    "reference_letter_ids",
    "status",
    "sent_at",
    "sent_by",
    "doc_date",
    "register_org_id",
)
RECIPIENT_COLUMNS = ("delivery_id", "letter_id", "recipient_org_id", "position", "forwarded")
ROUTING_COLUMNS = (
    "id",
    "letter_id",
    "sender_org_id",
    "recipient_org_id",
    "doc_no",
    "subject",
    "letter_type",
    "urgency",
    "urgency_rank",
    "secrecy",
    "circular",
    "status",
    "sent_at",
    "delivered_at",
)
TRIGRAM_TABLES = ("intake.letters", "routing.deliveries")


async def _trigram_indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
        "WHERE i.indrelid = ANY($1::regclass[]) AND pg_get_indexdef(i.indexrelid) LIKE '%gin_trgm_ops%'",
        list(TRIGRAM_TABLES),
    )
    return [(r["name"], r["definition"]) for r in rows]


async def seed_letters(
    conn: asyncpg.Connection, count: int, sender: uuid.UUID, code: str, recipient: uuid.UUID
) -> dict:
    """Loads `count` letters from sender to recipient with COPY. The trigram indexes are dropped for the load
    and built again afterwards from their own definitions (one build is far cheaper than a million GIN
    inserts), as a restore does; nothing else writes letters meanwhile."""
    started = time.monotonic()
    try:
        indexes = await _trigram_indexes(conn)
        letters = Letters(count, sender, code, recipient)
        async with conn.transaction():
            for name, _ in indexes:
                await conn.execute(f"DROP INDEX {name}")
            for offset in range(0, count, BATCH):
                rows = [letters.rows(letters.next(n)) for n in range(offset, min(offset + BATCH, count))]
                await conn.copy_records_to_table(
                    "letters", schema_name="intake", records=[r[0] for r in rows], columns=INTAKE_COLUMNS
                )
                await conn.copy_records_to_table(
                    "letter_recipients", schema_name="intake", records=[r[1] for r in rows], columns=RECIPIENT_COLUMNS
                )
                await conn.copy_records_to_table(
                    "deliveries", schema_name="routing", records=[r[2] for r in rows], columns=ROUTING_COLUMNS
                )
        loaded = time.monotonic() - started
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            await conn.execute(definition)
        for table in ("intake.letters", "intake.letter_recipients", "routing.deliveries"):
            await conn.execute(f"ANALYZE {table}")
        return {
            "seeded": count,
            "load_seconds": loaded,
            "index_seconds": time.monotonic() - started - loaded,
            "trigram_indexes": [name for name, _ in indexes],
        }
    finally:
        await conn.execute("RESET maintenance_work_mem")


async def time_searches(api: httpx.AsyncClient, where: dict[str, tuple[str, dict]], rounds: int) -> dict:
    """Each fragment in turn on each endpoint, `rounds` times, one request at a time (first page, 50 rows).
    `where` maps a name to (path, headers): the outbox as the sender's clerk, the inbox as the recipient's."""
    timings: dict[str, list[float]] = {name: [] for name in where}
    per_fragment: dict[str, dict[str, list[float]]] = {name: {f: [] for f in FRAGMENTS} for name in where}
    found: dict[str, dict[str, int]] = {name: {} for name in where}
    for name, (path, headers) in where.items():
        for fragment in FRAGMENTS:  # one untimed pass: plans and connections warm
            response = await api.get(path, headers=headers, params={"q": fragment})
            response.raise_for_status()
            found[name][fragment] = len(response.json()["items"])
    for _ in range(rounds):
        for name, (path, headers) in where.items():
            for fragment in FRAGMENTS:
                t0 = time.perf_counter()
                response = await api.get(path, headers=headers, params={"q": fragment})
                elapsed = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                timings[name].append(elapsed)
                per_fragment[name][fragment].append(elapsed)
    every = [t for values in timings.values() for t in values]
    return {
        "requests": len(every),
        "p50_ms": percentile(every, 50),
        "p99_ms": percentile(every, 99),
        "max_ms": max(every),
        "by_endpoint": {
            name: {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
            for name, values in timings.items()
        },
        "by_fragment_p50_ms": {
            name: {f: percentile(v, 50) for f, v in fragments.items()} for name, fragments in per_fragment.items()
        },
        "first_page_hits": found,
    }
