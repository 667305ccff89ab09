print("referral")
