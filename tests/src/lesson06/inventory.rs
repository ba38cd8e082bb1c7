//! 第 6 课的规则清单:章节里写明的每一条要求,由哪几项检查,又有哪些故意写错的程序违反它
//! (见 [`crate::rules`];`course dev check` 核对它,课本「评分器检查什么」一节由它生成)。
//!
//! 违反服务器规则的例子大多来自 `tests/fixtures/sound_chat.rs`(一个写对了的服务器,每个例子
//! 只关掉一条规则),客户端的来自 `sound_chat_client.rs`;`fixture-chat-variant` 什么也不关,
//! 全部通过。

use crate::rules::Rule;

pub const RULES: &[Rule] = &[
    // ---- 服务器 ----
    Rule {
        id: "address",
        rule: "服务器启动后的第一行里有实际绑定的地址",
        says: "服务器的第一行输出必须含有实际绑定的地址",
        checks: &[1],
        broken_by: &["fixture-crash"],
    },
    Rule {
        id: "join",
        rule: "报上合法的昵称：自己收到以「* 」开头、带着昵称的欢迎语；\
               已经在里面的人收到以「* 」开头、带着他的昵称和「进入」的通知",
        says: "欢迎语以 `* ` 开头、带着他的昵称；别人收到的进入、离开通知以 `* ` 开头，\
               带着他的昵称和「进入」或「离开」",
        checks: &[2, 4, 6, 8],
        broken_by: &["fixture-chat-server-no-join-notice"],
    },
    Rule {
        id: "say",
        rule: "一句普通的话，别人收到的恰好是 `[昵称] 原话`（两头的空白可以去掉），各种文字原样",
        says: "`[昵称] …`：某人对大家说的话",
        checks: &[2, 3],
        broken_by: &["fixture-chat-server-colon"],
    },
    Rule {
        id: "log",
        rule: "每有人进来、离开，服务器打印一行日志，带着他的昵称和在线人数；改名也打印一行，带着旧昵称和新昵称",
        says: "之后每有人进来、离开，打印一行，带上他的昵称和在线人数；改名也打印一行，带上旧昵称和新昵称。",
        checks: &[2, 4, 7],
        broken_by: &[
            "fixture-chat-server-log-no-count",
            "fixture-chat-server-no-rename-log",
        ],
    },
    Rule {
        id: "crlf",
        rule: "行尾是 `\\r\\n` 的一行和 `\\n` 的一样：`\\r` 不算在话里",
        says: "行尾是 `\\n`（`\\r\\n` 也行）",
        checks: &[2],
        broken_by: &["fixture-chat-server-keeps-cr"],
    },
    Rule {
        id: "no-echo",
        rule: "说话人收不到自己的话",
        says: "说话人收不到自己的话",
        checks: &[2, 3],
        broken_by: &["fixture-chat-server-echo"],
    },
    Rule {
        id: "order",
        rule: "同一个人说的话，每个收信人都按他说的顺序收到，一句不多、一句不少",
        says: "所以每个收信人收到他的话，顺序都和他说的一样",
        checks: &[3, 6],
        broken_by: &[
            "fixture-chat-server-thread-per-line",
            "fixture-chat-server-two-writes",
        ],
    },
    Rule {
        id: "leave",
        rule: "有人离开（/quit、关闭连接、连接被重置、被断开），其他人都收到带着他的昵称和「离开」的通知",
        says: "有人离开（`/quit`、关闭连接、连接被重置、被断开），其他人都会收到通知。",
        checks: &[4, 7, 8],
        broken_by: &["fixture-chat-server-crash"],
    },
    Rule {
        id: "vanish",
        rule: "读到 EOF 或错误只说明这个人走了：服务器不 panic，聊天照常",
        says: "它们不是服务器的错误，不能让服务器停下，更不能 `unwrap()` 成一次 panic。",
        checks: &[4],
        broken_by: &["fixture-chat-server-crash"],
    },
    Rule {
        id: "nick-rules",
        rule: "昵称是 1 到 16 个字符（不是字节：16 个汉字也行），只能是字母、汉字、数字、_ 和 -",
        says: "合法的昵称有 1 到 16 个**字符**（不是字节：「小明」是 2 个字符、6 个字节），\
               只能是字母（汉字也算）、数字、`_` 和 `-`。",
        checks: &[5],
        broken_by: &["fixture-chat-server-nick-bytes"],
    },
    Rule {
        id: "nick-unique",
        rule: "不合法或者和在线的人重名的昵称，收到一行「! 原因」",
        says: "不合法，或者和在线的人重名：服务器回一行 `! 原因`",
        checks: &[5],
        broken_by: &["fixture-chat-server-dup-nick"],
    },
    Rule {
        id: "nick-retry",
        rule: "昵称不行时不断开，接着等下一个",
        says: "接着等下一行昵称，不断开。",
        checks: &[5],
        broken_by: &["fixture-chat-server-drops-bad-nick"],
    },
    Rule {
        id: "too-slow",
        rule: "连续 --write-timeout 秒收不下任何东西的人被请走，其他人收到带着他的昵称和「跟不上」的通知",
        says: "**跟不上**按时间判断：一个人的连接连续 `--write-timeout` 秒（默认 5 秒）一个字节也写不进去",
        checks: &[6],
        broken_by: &["fixture-chat-server-unbounded"],
    },
    Rule {
        id: "readers-stay",
        rule: "读消息的人，不管别人说得多快，都不会被请走：信箱满了，让说话的人等一等",
        says: "一个读消息的人，不管别人说得多快，都不会被请走",
        checks: &[6],
        broken_by: &["fixture-chat-server-kicks-when-full"],
    },
    Rule {
        id: "no-stall",
        rule: "一个从不读消息的人，最多让大家停顿一个写超时",
        says: "所以一个从不读消息的人，最多让大家停顿一个写超时。",
        checks: &[6],
        broken_by: &["fixture-chat-server-blocking"],
    },
    Rule {
        id: "list",
        rule: "/list 只回给发命令的人「* 在线 N 人: 昵称, …」，名单里有在线的每一个人，包括他自己",
        says: "`/list` 的名单里是此刻在线的每一个人，包括发命令的人自己，人数就是名单的长度。",
        checks: &[6, 7],
        broken_by: &["fixture-chat-server-list-without-self"],
    },
    Rule {
        id: "nick-change",
        rule: "/nick 的新昵称和报昵称时的规则一样，不能和别人重名",
        says: "`/nick` 的新昵称和报昵称时的规则一样：不合法或者有人在用，回 `! 原因`，名字不变。",
        checks: &[7],
        broken_by: &["fixture-chat-server-nick-steals"],
    },
    Rule {
        id: "msg",
        rule: "/msg 只发给收信的那一个人；收信人不在线时，发信人收到「! …」",
        says: "私信只交给一个人",
        checks: &[7],
        broken_by: &["fixture-chat-server-msg-to-all"],
    },
    Rule {
        id: "commands",
        rule: "以 / 开头的行是命令，从不当成普通的话转发；不认识的命令和 /help 只回给发命令的人，空行什么也不做",
        says: "命令的回复只发给发命令的人，以 `/` 开头的行从来不会被当成普通的话转发出去。",
        checks: &[7],
        broken_by: &["fixture-chat-server-unknown-as-text"],
    },
    Rule {
        id: "quit",
        rule: "/quit 以后服务器关闭连接，不再处理他的行，其他人收到离开的通知",
        says: "`* 再见!`，然后服务器关闭连接",
        checks: &[7],
        broken_by: &["fixture-chat-server-quit-stays"],
    },
    Rule {
        id: "control",
        rule: "转发的文字里，控制字符（ANSI 转义序列、响铃……）换成 �",
        says: "别人发来的文字里的控制字符换成 `�`（制表符换成空格）",
        checks: &[8],
        broken_by: &["fixture-chat-server-no-clean"],
    },
    Rule {
        id: "format-chars",
        rule: "看不见的格式字符（U+202E、U+200B……）和行、段分隔符（U+2028、U+2029）也换成 �",
        says: "看不见的格式字符（Unicode 的 Cf 类，比如 U+202E「从右往左显示」、U+200B 零宽空格）\
               和行、段分隔符（U+2028、U+2029）也换成 `�`",
        checks: &[8],
        broken_by: &["fixture-chat-server-control-only"],
    },
    Rule {
        id: "bad-utf8",
        rule: "坏的 UTF-8 字节变成 �，照样转发，不断开说话的人",
        says: "坏的 UTF-8 字节也变成 `�`",
        checks: &[8],
        broken_by: &["fixture-chat-server-read-line"],
    },
    Rule {
        id: "line-limit",
        rule: "一行最多 1024 字节（不算换行）：恰好 1024 字节的照常转发，1025 字节的不转发，断开发它的人",
        says: "一行最多 1024 字节（不算换行）。超过的，服务器回一行 `! 一行最多 1024 字节,你被断开了`，\
               断开这个人，其他人收到他离开的通知。",
        checks: &[8],
        broken_by: &["fixture-chat-server-limit-in-chars"],
    },
    Rule {
        id: "endless-line",
        rule: "读满上限还没有换行，就是超长：不等换行，马上断开",
        says: "读满了还没有换行，就是超长",
        checks: &[8],
        broken_by: &["fixture-chat-server-reads-whole-line"],
    },
    Rule {
        id: "max-clients",
        rule: "最多 --max-clients 个连接（包括还没报昵称的）；再来的人收到「! …满…」，连接随即关闭，里面的人照常聊天",
        says: "同时最多 `--max-clients` 个连接（默认 1000，包括还没报昵称的）。\
               再来的人收到一行 `! 聊天室已满,请稍后再来`，连接随即关闭。",
        checks: &[9],
        broken_by: &["fixture-chat-server-no-cap"],
    },
    Rule {
        id: "nick-timeout",
        rule: "--nick-timeout 秒内没报上昵称的，收到「! …」后被断开；\
               时限管整个报昵称的过程，一个字节一个字节地发也一样；不早于时限",
        says: "连上以后，要在 `--nick-timeout` 秒（默认 60 秒）之内报上一个合法的昵称；\
               时限管的是整个报昵称的过程，不是每一次读。",
        checks: &[9],
        broken_by: &[
            "fixture-chat-server-no-nick-timeout",
            "fixture-chat-server-nick-read-timeout",
        ],
    },
    Rule {
        id: "seat",
        rule: "有人走了，他的座位空出来，新来的人进得来",
        says: "读线程 `join` 写线程，然后结束，座位随之空出来",
        checks: &[9],
        broken_by: &["fixture-chat-server-seat-leak"],
    },
    // ---- 客户端 ----
    Rule {
        id: "client-nick",
        rule: "客户端等到服务器的第一句话，就把 --nick 的昵称原样作为一行发出去",
        says: "报上昵称，就是把 `--nick` 给的昵称原样作为一行发出去，和用 `course nc` 连上去时手动输入的一样。",
        checks: &[10],
        broken_by: &["fixture-chat-client-nick-command"],
    },
    Rule {
        id: "client-typed",
        rule: "键盘上打的每一行（包括命令）原样作为一行发给服务器",
        says: "键盘上打的每一行（包括 `/nick`、`/quit` 这样的命令）都原样作为一行发给服务器",
        checks: &[10, 12, 13],
        broken_by: &[
            "fixture-chat-client-prefixes-nick",
            "fixture-chat-client-double-newline",
        ],
    },
    Rule {
        id: "two-threads",
        rule: "客户端两个线程：不打字的时候，服务器发来的每一行也马上打印出来",
        says: "所以客户端开两个线程",
        checks: &[10, 11],
        broken_by: &[
            "fixture-chat-client-one-thread",
            "fixture-chat-client-waits-for-reply",
        ],
    },
    Rule {
        id: "no-colour",
        rule: "stdout 不是终端（或者设置了 NO_COLOR）时不输出颜色控制码",
        says: "所以只在 `stdout().is_terminal()` 为真、并且没有设置 `NO_COLOR` 环境变量时才输出颜色。",
        checks: &[11],
        broken_by: &["fixture-chat-client-colour"],
    },
    Rule {
        id: "reconnect",
        rule: "断线后说一声，隔一会儿再重连（第一次 250 毫秒，之后加倍），一次失败了也要等，不是立刻再试",
        says: "它先说一声（`* 与服务器的连接断开了,正在重连……`），然后每隔一段时间试着连一次。",
        checks: &[12],
        broken_by: &["fixture-chat-client-no-backoff"],
    },
    Rule {
        id: "reconnect-nick",
        rule: "重连以后自动报上最后用的昵称（最后一次 /nick 的）",
        says: "昵称以最后一次 `/nick` 为准",
        checks: &[12],
        broken_by: &["fixture-chat-client-first-nick"],
    },
    Rule {
        id: "client-quit",
        rule: "Ctrl-D 或 /quit：客户端马上退出，退出码 0，不等服务器关连接",
        says: "按下 Ctrl-D 或者输入 `/quit`，客户端都要马上退出，退出码是 0，不要等服务器关连接。",
        checks: &[13],
        broken_by: &["fixture-chat-client-joins-receiver"],
    },
    Rule {
        id: "host",
        rule: "`--host ::1`：服务器绑定在 IPv6 的回环地址上，客户端连那里，聊天照常",
        says: "`--host` 可以是 IPv4 地址，也可以是 IPv6 地址",
        checks: &[15],
        broken_by: &[
            "fixture-chat-server-ignores-host",
            "fixture-chat-client-ignores-host",
        ],
    },
    Rule {
        id: "client-prompt",
        rule: "不给 `--nick`：连上以后，键盘上打的第一行就是昵称",
        says: "昵称；不给的话，连上以后打的第一行就是昵称",
        checks: &[10],
        broken_by: &["fixture-chat-client-nick-required"],
    },
    Rule {
        id: "client-first-refused",
        rule: "第一次就连不上：报错退出（说明里有地址），退出码不是 0，不重试",
        says: "第一次就连不上，多半是地址写错了或者服务器没开：像第 5 课一样报错退出，不要重试。",
        checks: &[14],
        broken_by: &["fixture-chat-client-retries-first"],
    },
    Rule {
        id: "client-refused",
        rule: "服务器的第一句话是「! …」（比如满员）：客户端说出原因，以非 0 的退出码退出",
        says: "等到的是 `! …`，或者连接被关了、一直等不到，都是错误",
        checks: &[14],
        broken_by: &["fixture-chat-client-full-exits-zero"],
    },
];
