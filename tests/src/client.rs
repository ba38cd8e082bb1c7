//! 第 2 课和第 5 课共用的客户端检查:客户端打印的回复对不对。

use crate::failure::Failure;
use crate::text::visible;

/// 回复的文字后面多了东西:说出多的是什么,以及多半是怎么来的。
pub fn extra_after_reply(failure: Failure, extra: &str) -> Failure {
    let count = extra.chars().count();
    let shown: String = extra.chars().take(20).collect();
    let more = if count > 20 { "…" } else { "" };
    let hint = if extra.chars().all(|c| c == '\0') {
        "多出来的是一串 \\0:这是缓冲区里没用到的部分。recv_from 返回的 n 才是回复的长度,\
         只打印 &buf[..n],而不是整个 buf。"
    } else if extra == "\r" {
        "回复行是以 \\r\\n 结尾的(Windows 和 telnet 的写法),只去掉 \\n,留下了 \\r:\
         它看不见,却会让终端回到行首。把行尾的 \\n 和它前面的 \\r 都去掉。"
    } else if extra == "\n" {
        "回复里的换行没有去掉,println! 又加了一个,于是多出一个空行。\
         打印之前去掉行尾的 \\n(和 \\r):trim_end_matches(['\\r', '\\n'])。"
    } else {
        "只打印回复本身:不要用 {:?}(它会加上引号、转义),也不要在后面加别的东西。"
    };
    failure
        .headline(format!("客户端打印的回复后面多了 {count} 个字符"))
        .actual(format!(
            "回复的文字后面紧跟着「{}{more}」(见下面的 stdout)",
            visible(&shown)
        ))
        .hint(hint)
}

/// 回复的文字打印了,可前后的空白没了:多半是用了 trim。
pub fn trimmed_reply(failure: Failure) -> Failure {
    failure
        .headline("客户端打印的回复少了前后的空白")
        .actual("回复的文字在 stdout 里,可它行首行尾的空格或制表符没有了(见下面的 stdout)")
        .hint(
            "空格和制表符也是回复的一部分,要原样打印。只去掉行尾的 \\n 和紧挨在它前面的 \\r,\
             不要用 trim() / trim_end()。",
        )
}
