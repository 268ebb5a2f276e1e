# In code, the hover works inside comments and strings only: the bank of a river.
label = "money in the bank"
bank = len(label)  # hovering the identifier on the left shows nothing
