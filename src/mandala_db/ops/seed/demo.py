"""`seed demo`: four users of different industries and two believable mandalas, one in Japanese that is
COMPLETED at 100%, one in English that is ACTIVE with uneven progress."""

from __future__ import annotations

from datetime import datetime, timedelta

from mandala_db.ops.seed.mandala import ActionSpec, TaskSpec, add_mandala
from mandala_db.ops.seed.rows import Collector, DataSet, Json

# The chart a high-school pitcher made for his goal of being drafted first by eight teams.
DRAFT_PICK = [
    (
        "体づくり",
        [
            "サプリメントを飲む",
            "FSQ 90kg",
            "RSQ 130kg",
            "柔軟性",
            "体幹強化",
            "スタミナ",
            "可動域",
            "食事 夜7杯 朝3杯",
        ],
    ),
    (
        "コントロール",
        [
            "インステップ改善",
            "体幹強化",
            "軸をぶらさない",
            "不安をなくす",
            "メンタルコントロール",
            "体を開かない",
            "下肢の強化",
            "リリースポイントの安定",
        ],
    ),
    (
        "キレ",
        [
            "角度をつける",
            "上からボールを叩く",
            "リストの強化",
            "可動域",
            "下半身主導",
            "回転数アップ",
            "体幹強化",
            "ボールを前で離す",
        ],
    ),
    (
        "スピード160km/h",
        [
            "軸でまわる",
            "下肢の強化",
            "体重増加",
            "体幹強化",
            "肩周りの強化",
            "可動域",
            "ライナーキャッチボール",
            "ピッチングを増やす",
        ],
    ),
    (
        "変化球",
        [
            "カーブ",
            "スライダーのキレ",
            "フォーク完成",
            "遅く落差のあるカーブ",
            "左打者への決め球",
            "ストレートと同じフォームで投げる",
            "ストライクからボールに投げるコントロール",
            "奥行きをイメージ",
        ],
    ),
    (
        "運",
        [
            "あいさつ",
            "ゴミ拾い",
            "部屋そうじ",
            "道具を大切に使う",
            "審判さんへの態度",
            "本を読む",
            "応援される人間になる",
            "プラス思考",
        ],
    ),
    ("人間性", ["感性", "愛される人間", "計画性", "感謝", "礼儀", "信頼される人間", "継続力", "思いやり"]),
    (
        "メンタル",
        [
            "はっきりとした目標・目的をもつ",
            "一喜一憂しない",
            "頭は冷静に心は熱く",
            "雰囲気に流されない",
            "ピンチに強い",
            "波をつくらない",
            "仲間を思いやる心",
            "勝利への執念",
        ],
    ),
]

MARATHON = [
    (
        "Aerobic base",
        [
            "Run 4 easy runs a week",
            "Weekly long run",
            "Build to 50 km a week",
            "Zone 2 heart-rate runs",
            "Track weekly mileage",
            "Run-commute twice a week",
            "Trail run once a month",
            "Back-to-back weekend runs",
        ],
    ),
    (
        "Speed",
        [
            "Weekly interval session",
            "Tempo runs at threshold",
            "Hill repeats",
            "Strides after easy runs",
            "Parkrun every Saturday",
            "10K race under 50 minutes",
            "Half marathon under 1:55",
            "Cadence drills",
        ],
    ),
    (
        "Strength",
        [
            "Strength training twice a week",
            "Single-leg squats",
            "15-minute core routine",
            "Daily calf raises",
            "Hip mobility routine",
            "Plank progression",
            "Deadlift technique",
            "Glute activation before runs",
        ],
    ),
    (
        "Nutrition",
        [
            "Five portions of vegetables a day",
            "Protein with every meal",
            "Practise race-day breakfast",
            "Test energy gels on long runs",
            "Alcohol only at weekends",
            "Hydration plan",
            "Reach 68 kg race weight",
            "Cook at home five nights",
        ],
    ),
    (
        "Recovery",
        [
            "Sleep 7.5 hours",
            "A rest day every week",
            "Foam roll after runs",
            "Deload week every month",
            "Track resting heart rate",
            "Monthly sports massage",
            "Stretch 10 minutes nightly",
            "Act on niggles early",
        ],
    ),
    (
        "Gear",
        [
            "Gait analysis",
            "Two pairs of trainers in rotation",
            "Replace shoes every 700 km",
            "Test race kit on long runs",
            "Anti-chafe plan",
            "Set up the GPS watch",
            "Winter rain gear",
            "Race-day checklist",
        ],
    ),
    (
        "Mindset",
        [
            "Write a race plan",
            "Visualise the last 10 km",
            "A mantra for hard moments",
            "Join a running club",
            "A running book each quarter",
            "Celebrate small wins",
            "Journal every run",
            "Find a training partner",
        ],
    ),
    (
        "Race logistics",
        [
            "Register for the race",
            "Book accommodation",
            "Plan travel to the start",
            "Learn the course profile",
            "Pacing strategy by kilometre",
            "Tune-up race in September",
            "Taper plan",
            "Family support plan",
        ],
    ),
]

# How far each marathon sub-goal has got: uneven, as real ones are.
MARATHON_DONE = [6, 3, 4, 2, 5, 7, 1, 0]  # completed tasks out of 8 actions x 1 task, per sub-goal


def build(scale: float = 1.0) -> DataSet:
    c = Collector("demo")
    shohei = c.add(
        "users",
        "shohei",
        email="shohei@example.jp",
        name="大谷 翔平",
        industry="OTHER",
        company_size="STARTUP",
        job_type="Athlete",
        position="Pitcher",
    )
    emma = c.add(
        "users",
        "emma",
        email="emma.clarke@example.com",
        name="Emma Clarke",
        industry="TECHNOLOGY",
        company_size="MEDIUM",
        job_type="Software engineer",
        position="Staff engineer",
    )
    c.add(
        "users",
        "yui",
        email="yui.tanaka@example.jp",
        name="田中 結衣",
        industry="HEALTHCARE",
        company_size="LARGE",
        job_type="Nurse",
        position="Head nurse",
    )
    c.add(
        "users",
        "liam",
        email="liam.osei@example.org",
        name="Liam Osei",
        industry="EDUCATION",
        company_size="SMALL",
        job_type="Teacher",
        position="Head of year",
    )

    done = [
        (
            s,
            [
                ActionSpec(a, [TaskSpec(f"{a}を毎日続ける", "COMPLETED", "HABIT", 30)], type="HABIT")
                for a in actions
            ],
        )
        for s, actions in DRAFT_PICK
    ]
    pick = add_mandala(
        c,
        "draft-pick",
        shohei,
        "ドラ1 8球団",
        done,
        status="COMPLETED",
        description="高校3年の秋、8球団から1位指名を受ける",
        deadline=datetime(2026, 10, 23),
        started=datetime(2025, 4, 1, 7),
    )
    running = []
    for s, (sub, actions) in enumerate(MARATHON):
        specs = [
            ActionSpec(
                a,
                [
                    TaskSpec(
                        f"{a} this week",
                        "COMPLETED"
                        if i < MARATHON_DONE[s]
                        else ("IN_PROGRESS" if i == MARATHON_DONE[s] else "NOT_STARTED"),
                        "HABIT" if s in (0, 4) else "EXECUTION",
                        45,
                    )
                ],
            )
            for i, a in enumerate(actions)
        ]
        running.append((sub, specs))
    marathon = add_mandala(
        c,
        "marathon",
        emma,
        "Run a marathon under 4 hours by October 2027",
        running,
        description="Berlin Marathon, September 2027",
        deadline=datetime(2027, 10, 1),
    )

    c.add(
        "reflections",
        "draft-pick",
        goal_id=pick.goal,
        summary="8球団から1位指名。毎日の積み重ねが結果になった",
        regretful_actions="変化球の習得が遅れた",
        slow_progress_actions="体重増加",
        untouched_actions=None,
    )
    c.add(
        "task_reflections",
        "marathon-long-run",
        task_id=marathon.tasks[1],
        content="The long run felt easy at 6:10/km",
        rating=5,
    )
    c.add(
        "task_notes",
        "marathon-note",
        task_id=marathon.tasks[0],
        user_id=emma,
        content="Kept heart rate under 150",
    )
    for i, task in enumerate(marathon.tasks[8:12]):
        c.add(
            "task_reminders",
            f"marathon:{i}",
            task_id=task,
            remind_at=datetime(2026, 11, 28, 6, 30) + timedelta(days=i),
            message="Time to run",
            status="PENDING",
        )
    c.add("user_reminder_preferences", user_id=emma, enabled=True, mood_preference="STAY_ON_TRACK")
    c.add(
        "user_reminder_preferences",
        user_id=shohei,
        enabled=False,
        mood_preference="CHANGE_PACE",
        unsubscribed_at=datetime(2026, 10, 24),
    )
    for month in range(6):
        c.add(
            "progress_history",
            f"marathon:{month}",
            entity_type="goal",
            entity_id=marathon.goal,
            progress=min(100, 7 * month),
            recorded_at=datetime(2026, 6 + month, 1),
        )
        c.add(
            "progress_history",
            f"draft-pick:{month}",
            entity_type="goal",
            entity_id=pick.goal,
            progress=min(100, 50 + 10 * month),
            recorded_at=datetime(2026, 5 + month, 1),
        )
    c.add(
        "change_history",
        "marathon-title",
        entity_type="goal",
        entity_id=marathon.goal,
        user_id=emma,
        changes=Json(
            [
                {
                    "field": "title",
                    "old_value": "Run a marathon",
                    "new_value": "Run a marathon under 4 hours by October 2027",
                }
            ]
        ),
    )
    c.add(
        "processing_state",
        "marathon-tasks",
        user_id=emma,
        type="TASK_GENERATION",
        status="COMPLETED",
        target_id=marathon.actions[0][0],
        progress=100,
        result={"tasks": 1},
        completed_at=datetime(2026, 6, 1),
    )
    c.add(
        "workflow_executions",
        "marathon",
        execution_arn="arn:aws:states:ap-northeast-1:000000000000:execution:demo:1",
        goal_id=marathon.goal,
        user_id=emma,
        status="SUCCEEDED",
        start_date=datetime(2026, 6, 1, 10),
        stop_date=datetime(2026, 6, 1, 10, 2),
        input={"goalId": marathon.goal},
        output={"tasks": 64},
        progress_percentage=100,
        processed_actions=64,
        total_actions=64,
        current_batch=8,
        total_batches=8,
    )
    return c.build()
