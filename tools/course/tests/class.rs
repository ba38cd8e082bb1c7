//! 给全班评分的端到端检查。每一个都要编译、运行好几份提交,要几十秒到几分钟,
//! 所以默认不跑(`#[ignore]`);`.ci/run` 用
//! `cargo test -p course --test class -- --ignored --test-threads 1` 运行它们。
//!
//! 恶意提交在 `tests/hostile/` 里,每一个都自己设了上限(见那里的 README)。

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const COURSE: &str = env!("CARGO_BIN_EXE_course");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// 测试自己的目录:留在 target/class-check/ 下,跑完可以打开 report.html 看(.ci/run 还要截图)。
fn workdir(name: &str) -> PathBuf {
    let dir = repo().join("target/class-check").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// 一份交了全部参考答案的提交。
fn solution_submission(to: &Path) {
    for entry in fs::read_dir(repo().join("solutions")).unwrap().flatten() {
        copy_tree(
            &entry.path().join("src"),
            &to.join("lessons").join(entry.file_name()).join("src"),
        );
    }
}

fn grade(args: &[&str], home: Option<&Path>) -> Output {
    grade_in(&repo(), args, home)
}

/// 在 `course_dir`(一个课程仓库)里运行 `course grade 参数…`,要求它成功。
fn grade_in(course_dir: &Path, args: &[&str], home: Option<&Path>) -> Output {
    let mut command = Command::new(COURSE);
    // 两份提交同时评,旁边还有恶意提交在抢 CPU:放宽评分器的期限,这里检查的是沙箱,
    // 不是学员程序的时序(在 2 核的机器上,第 5 课「连接一直没有应答」的 2.5 秒上限偶尔会被挤掉)。
    command
        .arg("grade")
        .args(args)
        .current_dir(course_dir)
        .env("COURSE_TIMEOUT_SCALE", "3");
    if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        // 别的课程仓库(见 classmates_work_…)也用这个仓库的 target/:原版依赖只编译一次。
        command.env("CARGO_TARGET_DIR", repo().join("target"));
    }
    if let Some(home) = home {
        command.env("HOME", home);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "course grade 失败:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// gradebook.csv → 学员 → (状态, 总分);满分写成 `"满分"`,这样断言不必跟着分值表改。
fn gradebook(out: &Path) -> BTreeMap<String, (String, String)> {
    let text = fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let mut lines = text.lines();
    // 学员,状态,每一课的得分,总分,满分,说明(说明里可能有逗号,放在最后)。
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (total, max) = (column("total"), column("max"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.splitn(header.len(), ',').collect();
            let earned = if fields[total] == fields[max] {
                "满分"
            } else {
                fields[total]
            };
            (
                fields[0].to_owned(),
                (fields[1].to_owned(), earned.to_owned()),
            )
        })
        .collect()
}

/// report.json → 学员 → 这个学员的全部结果(JSON)。
fn report_students(out: &Path) -> BTreeMap<String, serde_json::Value> {
    let text = fs::read_to_string(out.join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report["students"]
        .as_array()
        .expect("report.json 里有 students")
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

fn bubblewrap_works() -> bool {
    Command::new("bwrap")
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-net",
            "--unshare-pid",
            "true",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// 目录下所有文件的内容(找泄露出来的秘密用)。
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            text += &all_text(&entry.path());
        } else {
            let mut bytes = Vec::new();
            fs::File::open(entry.path())
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            text += &String::from_utf8_lossy(&bytes);
        }
    }
    text
}

/// 每一个恶意提交都被关在沙箱里,在成绩册里记为 contained;同一个班里正确的提交的分数,
/// 和它单独评的时候一样;
/// 回环上的金丝雀没有收到任何连接,老师家目录里的私钥没有出现在任何输出里,评分后没有留下进程。
#[test]
#[ignore = "几分钟;由 .ci/run 运行"]
fn hostile_submissions_are_contained_and_reported_and_harm_nobody_else() {
    assert!(
        bubblewrap_works(),
        "这个检查需要能用的 bubblewrap(sudo apt-get install bubblewrap)"
    );
    let dir = workdir("hostile");
    let class = dir.join("class");
    solution_submission(&class.join("alice"));
    for entry in fs::read_dir(repo().join("tools/course/tests/hostile"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        copy_tree(&entry.path(), &class.join(entry.file_name()));
    }
    // 「老师的家目录」,在沙箱外,里面有一把私钥;course 运行时 HOME 指向这里。
    let home = dir.join("home");
    fs::create_dir_all(home.join(".ssh")).unwrap();
    let home = home.canonicalize().unwrap();
    let key = home.join(".ssh/id_ed25519");
    let secret = format!("TEACHER-SECRET-{}", std::process::id());
    fs::write(&key, &secret).unwrap();
    // include-outside 用 include_str! 读的私钥,换成这把真实存在的(原样是 /root/.ssh/…)。
    let include = class.join("include-outside/lessons/01-udp-server/src/main.rs");
    let original = fs::read_to_string(&include).unwrap();
    let aimed = original.replace("/root/.ssh/id_ed25519", key.to_str().unwrap());
    assert_ne!(
        aimed, original,
        "include-outside 里应该有 /root/.ssh/id_ed25519"
    );
    fs::write(&include, aimed).unwrap();
    // 金丝雀:老师机器回环上的一个服务,在沙箱外。
    let canary = TcpListener::bind("127.0.0.1:0").unwrap();
    let canary_port = canary.local_addr().unwrap().port();
    canary.set_nonblocking(true).unwrap();

    // 先让 alice 单独评一次:和恶意提交同班时,她的分数应该一模一样。
    let alone = dir.join("alone");
    solution_submission(&alone.join("alice"));
    let baseline = dir.join("baseline");
    grade(
        &[
            "--class",
            alone.to_str().unwrap(),
            "--out",
            baseline.to_str().unwrap(),
            "--no-cache",
        ],
        None,
    );

    let out = dir.join("out");
    let output = grade(
        &[
            "--class",
            class.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            "2",
            "--no-cache",
        ],
        Some(&home),
    );

    let book = gradebook(&out);
    assert_eq!(book["alice"], gradebook(&baseline)["alice"], "{book:?}");
    assert_eq!(book["alice"].0, "graded");
    for hostile in [
        "big-file",
        "flood-stdout",
        "ignore-sigterm",
        "include-classmates",
        "include-outside",
        "loopback-canary",
        "read-ssh",
        "thread-bomb",
    ] {
        assert_eq!(book[hostile].0, "contained", "{hostile}: {book:?}");
    }
    let report = fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        report.contains(&format!("127.0.0.1:{canary_port}")),
        "诱饵应该记下了连金丝雀端口的企图"
    );
    for path in ["/etc/passwd", key.to_str().unwrap()] {
        assert!(
            report.contains(&format!("编译时想读提交以外的文件 {path}")),
            "include-outside 想读 {path},应该被记下:\n{report}"
        );
    }
    assert!(
        canary.accept().is_err(),
        "金丝雀收到了连接:沙箱的网络没有隔离"
    );

    let everything = all_text(&out)
        + &String::from_utf8_lossy(&output.stdout)
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!everything.contains(&secret), "老师的私钥出现在了输出里");
    assert!(
        !everything.contains("root:x:0:0"),
        "/etc/passwd 的内容出现在了输出里"
    );
    let feedback = fs::read_to_string(out.join("feedback/loopback-canary.txt")).unwrap();
    let interfaces = feedback
        .lines()
        .find_map(|l| l.split("看得见的网卡:").nth(1))
        .expect("loopback-canary 应该列出了它看得见的网卡");
    assert_eq!(interfaces.trim(), "lo", "沙箱里应该只有回环网卡");

    let leftovers: Vec<String> = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("bomb-child") || c.starts_with("sleep 60"))
        .collect();
    assert!(leftovers.is_empty(), "评分后还有进程:{leftovers:?}");
}

/// 分两份评(--shard 1/2、2/2)再合并,和一次评完全班得到一模一样的成绩册。
/// 班里有文件夹、.zip、.tar.gz、没写的、编译不过的和读不了的。
#[test]
#[ignore = "一分钟;由 .ci/run 运行"]
fn sharded_runs_merge_into_the_same_gradebook_as_one_run() {
    let dir = workdir("shards");
    let class = dir.join("class");
    solution_submission(&class.join("alice"));
    fs::create_dir_all(class.join("bob/lessons")).unwrap();
    let carol = class.join("carol/lessons/01-udp-server/src");
    fs::create_dir_all(&carol).unwrap();
    fs::write(
        carol.join("main.rs"),
        "fn main() { let x: u32 = \"不是数字\"; }",
    )
    .unwrap();
    let staging = dir.join("staging");
    solution_submission(&staging.join("dave"));
    let tar = Command::new("tar")
        .args(["-czf"])
        .arg(class.join("dave.tar.gz"))
        .arg("-C")
        .arg(&staging)
        .arg("dave")
        .status()
        .unwrap();
    assert!(tar.success());
    let zip = Command::new("python3")
        .args(["-m", "zipfile", "-c"])
        .arg(class.join("erin.zip"))
        .arg(staging.join("dave/lessons"))
        .status()
        .unwrap();
    assert!(zip.success());
    fs::write(class.join("frank.zip"), "这不是 zip").unwrap();

    let run = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec![
            "--class",
            class.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        grade(&args, None);
        out
    };
    let whole = run("whole", &["--jobs", "2"]);
    // 两台「机器」真的各评各的:不用缓存(否则它们只是读回了上面那次的结果)。
    let one = run("one", &["--shard", "1/2", "--no-cache"]);
    let two = run("two", &["--shard", "2/2", "--no-cache"]);
    let merged = dir.join("merged");
    grade(
        &[
            "merge",
            one.to_str().unwrap(),
            two.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        None,
    );
    let expected = fs::read_to_string(whole.join("gradebook.csv")).unwrap();
    assert_eq!(
        fs::read_to_string(merged.join("gradebook.csv")).unwrap(),
        expected
    );
    // 每个学员的每一项检查(状态、得分、失败的一句话原因)也一模一样,不只是总分。
    let one_run = report_students(&whole);
    let merged_students = report_students(&merged);
    assert_eq!(
        merged_students.keys().collect::<Vec<_>>(),
        one_run.keys().collect::<Vec<_>>()
    );
    for (name, student) in &one_run {
        assert_eq!(
            &merged_students[name], student,
            "{name} 分两台机器评,和一次评完的结果不一样"
        );
    }
    let book = gradebook(&whole);
    for name in ["alice", "dave", "erin"] {
        assert_eq!(book[name].0, "graded", "{name}: {book:?}");
    }
    assert_eq!(book["bob"].0, "graded");
    assert_eq!(book["carol"].0, "build_failed");
    assert_eq!(book["frank"].0, "unreadable");
    let html = fs::read_to_string(whole.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 6);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "网页不能连外面的网站"
    );
}

/// 没有 bubblewrap 时(这里用 --no-sandbox 模拟)照样评分,而且清楚地说沙箱不完整。
#[test]
#[ignore = "半分钟;由 .ci/run 运行"]
fn without_isolation_grading_still_works_and_says_the_sandbox_is_partial() {
    let dir = workdir("partial");
    let class = dir.join("class");
    solution_submission(&class.join("alice"));
    copy_tree(
        &repo().join("tools/course/tests/hostile/big-file"),
        &class.join("big-file"),
    );
    let out = dir.join("out");
    let output = grade(
        &[
            "--class",
            class.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-sandbox",
            "--no-cache",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("沙箱:不完整"), "{stderr}");
    let book = gradebook(&out);
    assert_eq!(book["alice"].0, "graded");
    // 文件大小上限不需要隔离也有效。
    assert_eq!(book["big-file"].0, "contained", "{book:?}");
}

/// 老师照课本那样在课程仓库里评分:全班的提交在 `submissions/`,上一次的成绩册在 `grades/`。
/// 想在编译时把同学的作业和成绩册编进自己程序的提交(hostile/include-classmates)被拦下,
/// 记为 contained;同学的作业和以前的成绩册里的内容不出现在这一次的任何输出里。
#[test]
#[ignore = "一分钟;由 .ci/run 运行"]
fn a_submission_cannot_compile_in_classmates_work_or_earlier_grades() {
    assert!(
        bubblewrap_works(),
        "这个检查需要能用的 bubblewrap(sudo apt-get install bubblewrap)"
    );
    let dir = workdir("classmates");
    // 老师的课程仓库:这个仓库编译要用的部分。
    let course = dir.join("course");
    for part in ["lessons", "solutions", "tests", "tools"] {
        copy_tree(&repo().join(part), &course.join(part));
    }
    for file in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(repo().join(file), course.join(file)).unwrap();
    }
    let pid = std::process::id();
    let classmate = format!("CLASSMATE-SECRET-{pid}");
    let earlier = format!("EARLIER-GRADES-SECRET-{pid}");
    let class = course.join("submissions");
    solution_submission(&class.join("alice"));
    let alice = class.join("alice/lessons/01-udp-server/src/main.rs");
    let text = fs::read_to_string(&alice).unwrap();
    fs::write(&alice, format!("{text}\n// {classmate}\n")).unwrap();
    copy_tree(
        &repo().join("tools/course/tests/hostile/include-classmates"),
        &class.join("mallory"),
    );
    fs::create_dir_all(course.join("grades")).unwrap();
    fs::write(
        course.join("grades/gradebook.csv"),
        format!("student,status,01,total,max,note\nalice,graded,11,11,11,{earlier}\n"),
    )
    .unwrap();

    let output = grade_in(
        &course,
        &[
            "--class",
            "submissions",
            "--out",
            "grades",
            "--lessons",
            "01",
            "--no-cache",
        ],
        None,
    );
    let out = course.join("grades");
    let book = gradebook(&out);
    assert_eq!(book["alice"], ("graded".to_owned(), "满分".to_owned()));
    assert_eq!(book["mallory"].0, "contained", "{book:?}");
    let report = fs::read_to_string(out.join("report.json")).unwrap();
    for wanted in [
        "编译时想读提交以外的文件 课程仓库里的 submissions/alice/lessons/01-udp-server/src/main.rs",
        "编译时想读提交以外的文件 课程仓库里的 grades/gradebook.csv",
    ] {
        assert!(report.contains(wanted), "没有记下「{wanted}」:\n{report}");
    }
    let mut everything = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    for file in [
        "gradebook.csv",
        "report.json",
        "report.html",
        "feedback/alice.txt",
        "feedback/mallory.txt",
    ] {
        everything += &fs::read_to_string(out.join(file)).unwrap();
    }
    assert!(!everything.contains(&classmate), "同学的作业出现在了输出里");
    assert!(!everything.contains(&earlier), "以前的成绩册出现在了输出里");
}

/// 评过全班以后补交了一份:重新运行时,别人的结果都来自缓存,只有补交的那一份真的评了;
/// 成绩册里别人的分数和上一次一样。
#[test]
#[ignore = "半分钟;由 .ci/run 运行"]
fn after_a_late_submission_only_the_late_one_is_graded_again() {
    let dir = workdir("late");
    let class = dir.join("class");
    solution_submission(&class.join("alice"));
    fs::create_dir_all(class.join("bob/lessons")).unwrap();
    let run = |name: &str| {
        let out = dir.join(name);
        let output = grade(
            &[
                "--class",
                class.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--lessons",
                "01,02",
            ],
            None,
        );
        (out, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (first, _) = run("first");

    // 补交的一份:内容独一无二(以前的测试运行不可能缓存过它)。
    solution_submission(&class.join("carol"));
    let carol = class.join("carol/lessons/01-udp-server/src/main.rs");
    let text = fs::read_to_string(&carol).unwrap();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    fs::write(&carol, format!("{text}\n// 补交于 {stamp}\n")).unwrap();
    let (second, log) = run("second");

    // 不是终端时,每评完一份打印一行:「[2/3] alice:已评分 21 分(…,来自缓存)」。
    let line = |name: &str| {
        log.lines()
            .find(|l| l.contains(&format!("] {name}:")))
            .unwrap_or_else(|| panic!("进度里没有 {name}:\n{log}"))
            .to_owned()
    };
    for name in ["alice", "bob"] {
        assert!(
            line(name).contains("来自缓存"),
            "{name} 应该来自缓存:\n{log}"
        );
    }
    assert!(
        !line("carol").contains("来自缓存"),
        "carol 是补交的,应该真的评了:\n{log}"
    );
    let (before, after) = (gradebook(&first), gradebook(&second));
    for name in ["alice", "bob"] {
        assert_eq!(after[name], before[name]);
    }
    assert_eq!(after["carol"], ("graded".to_owned(), "满分".to_owned()));
    assert_eq!(after["alice"], after["carol"]);
}
